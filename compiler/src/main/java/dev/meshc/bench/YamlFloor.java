package dev.meshc.bench;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.snakeyaml.engine.v2.api.LoadSettings;
import org.snakeyaml.engine.v2.api.lowlevel.Parse;
import org.snakeyaml.engine.v2.events.Event;

/**
 * A floor for {@code compile --host}: a fresh JVM that only reads a file and pulls snakeyaml-engine's
 * event stream through it, with the same settings as meshc's reader. Everything meshc does (tree,
 * schema, validation, plan, rendering, writing) comes on top. Run by {@code bench/run}:
 * {@code java -cp meshc.jar dev.meshc.bench.YamlFloor XL.yml}.
 */
public final class YamlFloor {
    private YamlFloor() {
    }

    public static void main(String[] args) throws Exception {
        String text = new String(Files.readAllBytes(Path.of(args[0])), StandardCharsets.UTF_8);
        LoadSettings settings = LoadSettings.builder().setUseMarks(true).setCodePointLimit(Integer.MAX_VALUE).build();
        long events = 0;
        for (Event e : new Parse(settings).parseString(text)) events++;
        System.out.println(events + " events");
    }
}
