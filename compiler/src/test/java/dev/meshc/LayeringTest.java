package dev.meshc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * One package per stage, imports flowing one way (STYLE.md §1): a package refers only to itself and
 * to earlier stages, by import or by a qualified name in the code. {@code bench} (the fleet generator
 * and the parser floor) sits just below {@code cli}, which offers it as commands.
 */
class LayeringTest {
    static final List<String> STAGES = List.of("diag", "load", "model", "validate", "plan", "render", "emit", "trace", "bench", "cli");
    private static final Pattern REFERENCE = Pattern.compile("\\bdev\\.meshc\\.([a-z]+)\\.");

    @Test
    void everyPackageRefersOnlyToItselfAndEarlierStages() throws IOException {
        Path main = TestSupport.root().resolve("compiler/src/main/java/dev/meshc");
        List<String> violations = new ArrayList<>();
        int files = 0;
        try (Stream<Path> s = Files.walk(main)) {
            for (Path p : s.filter(f -> f.toString().endsWith(".java")).toList()) {
                files++;
                String stage = main.relativize(p).getName(0).toString();
                assertTrue(STAGES.contains(stage), "a package that is no stage: " + stage + " (" + p + ")");
                String text = Files.readString(p);
                Matcher m = REFERENCE.matcher(text);
                while (m.find()) {
                    String target = m.group(1);
                    if (STAGES.indexOf(target) > STAGES.indexOf(stage)) {
                        int line = (int) text.substring(0, m.start()).chars().filter(c -> c == '\n').count() + 1;
                        violations.add(main.relativize(p) + ":" + line + ": " + stage + " refers to the later stage " + target);
                    }
                }
            }
        }
        assertTrue(files > 50, "found the sources: " + files);
        assertEquals(List.of(), violations);
    }
}
