package dev.meshc.bench;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import org.snakeyaml.engine.v2.api.LoadSettings;
import org.snakeyaml.engine.v2.api.lowlevel.Parse;
import org.snakeyaml.engine.v2.events.Event;

/**
 * A floor for {@code compile --host}: a fresh JVM that only reads a file and pulls snakeyaml-engine's
 * event stream through it, with the same settings as meshc's reader. Everything meshc does (tree,
 * schema, validation, plan, rendering, writing) comes on top. Run by {@code bench/run}:
 * {@code java -cp meshc.jar dev.meshc.bench.YamlFloor XL.yml [PASSES]}. With more than one pass it prints
 * each pass's milliseconds: the later passes show the parser's speed once the JIT has compiled it, which
 * tells a cold start's cost from the parser's own.
 */
public final class YamlFloor {
    private YamlFloor() {
    }

    public static void main(String[] args) throws Exception {
        String text = new String(Files.readAllBytes(Path.of(args[0])), StandardCharsets.UTF_8);
        int passes = args.length > 1 ? Integer.parseInt(args[1]) : 1;
        LoadSettings settings = LoadSettings.builder().setUseMarks(true).setCodePointLimit(Integer.MAX_VALUE).build();
        for (int pass = 1; pass <= passes; pass++) {
            long start = System.nanoTime();
            long events = 0;
            for (Event e : new Parse(settings).parseString(text)) events++;
            long ms = (System.nanoTime() - start) / 1_000_000;
            System.out.println(passes == 1 ? events + " events" : String.format(Locale.ROOT, "pass %d: %d events, %d ms", pass, events, ms));
        }
    }
}
