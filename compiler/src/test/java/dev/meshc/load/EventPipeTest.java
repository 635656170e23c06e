package dev.meshc.load;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.meshc.diag.Diagnostics;
import dev.meshc.fuzz.InventoryGenerator;
import dev.meshc.fuzz.Mutator;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Optional;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.snakeyaml.engine.v2.api.LoadSettings;
import org.snakeyaml.engine.v2.api.lowlevel.Parse;
import org.snakeyaml.engine.v2.events.Event;
import org.snakeyaml.engine.v2.exceptions.YamlEngineException;
import tools.jackson.databind.JsonNode;

/**
 * Reading with the parser on its own thread ({@link EventPipe}) must be indistinguishable from reading
 * on one: the same tree, the same position of every value and key, the same diagnostics, for valid
 * documents, rejected ones and mutants of generated inventories.
 */
class EventPipeTest {
    private static final YamlReader PIPELINED = new YamlReader(InputLimits.DEFAULT, 0);
    private static final YamlReader DIRECT = new YamlReader(InputLimits.DEFAULT, Integer.MAX_VALUE);

    /** Both ways of reading, compared: tree, every position, diagnostics. */
    static void sameAsDirect(String label, byte[] bytes) {
        Diagnostics dp = new Diagnostics(), dd = new Diagnostics();
        Optional<SourceTree> p = PIPELINED.read(label, bytes, dp), d = DIRECT.read(label, bytes, dd);
        assertEquals(dd.sorted(), dp.sorted(), label);
        assertEquals(d.isPresent(), p.isPresent(), label);
        if (d.isEmpty()) return;
        assertEquals(d.get().root(), p.get().root(), label);
        List<String> pointers = new ArrayList<>();
        pointers(d.get().root(), "", pointers);
        for (String ptr : pointers) {
            assertEquals(d.get().writtenAt(ptr), p.get().writtenAt(ptr), label + " value at " + ptr);
            assertEquals(d.get().keyAt(ptr), p.get().keyAt(ptr), label + " key at " + ptr);
        }
    }

    private static void pointers(JsonNode n, String at, List<String> out) {
        out.add(at);
        if (n.isObject()) {
            for (String k : n.propertyNames()) pointers(n.get(k), SourceTree.child(at, k), out);
        } else if (n.isArray()) {
            for (int i = 0; i < n.size(); i++) pointers(n.get(i), at + "/" + i, out);
        }
    }

    static List<Path> documents() throws IOException {
        return PositionsTest.documents().toList();
    }

    @ParameterizedTest
    @MethodSource("documents")
    void examplesAndTestDocumentsReadTheSame(Path file) throws IOException {
        sameAsDirect(file.getFileName().toString(), Files.readAllBytes(file));
    }

    @Property(tries = 300, seed = "11")
    void mutantsReadTheSame(@ForAll long seed) {
        String yaml = InventoryGenerator.generate(seed);
        sameAsDirect("gen-" + seed, yaml.getBytes(StandardCharsets.UTF_8));
        sameAsDirect("mutant-" + seed, Mutator.mutate(yaml, seed));
    }

    @Test
    void largeDocumentsWithAnErrorNearTheEndReadTheSame() {
        StringBuilder sb = new StringBuilder("version: 1\ncontainers:\n");
        for (int i = 0; i < 20_000; i++) sb.append("  c-").append(i).append(": {service: s, vm: v}\n");
        String ok = sb.toString();
        sameAsDirect("large", ok.getBytes(StandardCharsets.UTF_8));
        sameAsDirect("syntax error at the end", (ok + "  c-x: {service: [s\n").getBytes(StandardCharsets.UTF_8));
        sameAsDirect("duplicate key at the end", (ok + "  c-7: {service: s, vm: v}\n").getBytes(StandardCharsets.UTF_8));
        sameAsDirect("second document", (ok + "---\nb: 1\n").getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void aParserExceptionComesAfterTheEventsBeforeIt() {
        String yaml = "a: 1\n".repeat(2_000) + "b: [\n";
        List<Event> direct = new ArrayList<>();
        RuntimeException directError = drain(new Parse(settings()).parseString(yaml).iterator(), direct);
        List<Event> piped = new ArrayList<>();
        RuntimeException pipedError;
        try (EventPipe pipe = new EventPipe(new Parse(settings()).parseString(yaml))) {
            pipedError = drain(pipe, piped);
        }
        assertTrue(directError instanceof YamlEngineException, String.valueOf(directError));
        assertEquals(directError.getClass(), pipedError.getClass());
        assertEquals(directError.getMessage(), pipedError.getMessage());
        assertEquals(direct.size(), piped.size());
        for (int i = 0; i < direct.size(); i++) assertEquals(direct.get(i).toString(), piped.get(i).toString(), "event " + i);
    }

    @Test
    void closingStopsTheParserThread() throws Exception {
        String yaml = "a: 1\n".repeat(200_000); // far more than the pipe holds
        int before = parserThreads();
        try (EventPipe pipe = new EventPipe(new Parse(settings()).parseString(yaml))) {
            assertTrue(pipe.hasNext());
            pipe.next();
        }
        for (int i = 0; i < 100 && parserThreads() > before; i++) Thread.sleep(20);
        assertEquals(before, parserThreads(), "the parser thread ended after close()");
    }

    @Test
    void aReaderStoppingEarlyLeavesNoThreadBehind() throws Exception {
        int before = parserThreads();
        String yaml = "a: !custom 1\n" + "b: 1\n".repeat(200_000); // Y106 at the first value
        Diagnostics d = new Diagnostics();
        assertTrue(PIPELINED.read("f.yml", yaml.getBytes(StandardCharsets.UTF_8), d).isEmpty());
        assertEquals("Y106", d.sorted().get(0).code().name());
        for (int i = 0; i < 100 && parserThreads() > before; i++) Thread.sleep(20);
        assertEquals(before, parserThreads());
    }

    @Test
    void anExhaustedPipeSaysSo() {
        try (EventPipe pipe = new EventPipe(new Parse(settings()).parseString("a: 1\n"))) {
            while (pipe.hasNext()) pipe.next();
            assertFalse(pipe.hasNext());
            assertThrows(java.util.NoSuchElementException.class, pipe::next);
        }
    }

    private static RuntimeException drain(Iterator<Event> it, List<Event> into) {
        try {
            while (it.hasNext()) into.add(it.next());
            return null;
        } catch (RuntimeException e) {
            return e;
        }
    }

    private static int parserThreads() {
        return (int) Thread.getAllStackTraces().keySet().stream().filter(t -> t.getName().equals("meshc-yaml-parser") && t.isAlive()).count();
    }

    private static LoadSettings settings() {
        return LoadSettings.builder().setUseMarks(true).setCodePointLimit(Integer.MAX_VALUE).build();
    }
}
