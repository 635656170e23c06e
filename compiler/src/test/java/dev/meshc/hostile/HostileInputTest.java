package dev.meshc.hostile;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.meshc.TestSupport;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Hostile inputs generated here because they are too large or too odd to commit (the committed ones
 * are in the diagnostic corpus, {@code cases/}, with DiagnosticCasesTest). Each must give exit 1, the
 * expected diagnostic at its position, no stack trace, and write nothing: no output directory, no lock file.
 */
class HostileInputTest {
    static final Path CORPUS = TestSupport.root().resolve("compiler/src/test/resources/cases");

    static void assertRejected(Path inv, Path dir, String code, int line, int col) {
        Path out = dir.resolve("out");
        var r = TestSupport.meshc("compile", inv.toString(), "-o", out.toString());
        assertEquals(1, r.code(), r.err());
        String where = inv + (line > 0 ? ":" + line + ":" + col : "");
        assertTrue(r.err().contains(where + ": error[" + code + "]"), () -> "expected " + where + ": error[" + code + "] in:\n" + r.err());
        assertFalse(r.err().contains("Exception") || r.err().contains("\tat ") || r.err().contains("internal error"), r.err());
        assertFalse(Files.exists(out), "nothing written");
        assertFalse(Files.exists(dir.resolve("meshc.lock")), "no lock written");
        for (String format : List.of("json", "github")) {
            var f = TestSupport.meshc("validate", inv.toString(), "--format", format);
            assertEquals(1, f.code());
            assertTrue(f.out().contains(code), f.out());
        }
    }

    @Test
    void fiftyMegabyteDocument(@TempDir Path dir) throws IOException {
        Path inv = dir.resolve("huge.yml");
        try (OutputStream o = Files.newOutputStream(inv)) {
            o.write("version: 1\ncomment: \"".getBytes(StandardCharsets.UTF_8));
            byte[] chunk = "x".repeat(1 << 20).getBytes(StandardCharsets.UTF_8);
            for (int i = 0; i < 50; i++) o.write(chunk);
            o.write("\"\n".getBytes(StandardCharsets.UTF_8));
        }
        assertRejected(inv, dir, "Y103", 0, 0);
    }

    @Test
    void anEndlessStreamIsCutAtTheLimit(@TempDir Path dir) {
        // No size to check first (a character device, like a pipe): the read itself stops one byte past the limit.
        assertRejected(Path.of("/dev/zero"), dir, "Y103", 0, 0);
        var r = TestSupport.meshc("validate", "/dev/zero");
        assertTrue(r.err().contains("the file has more than 33554432 bytes; the limit is 33554432 bytes (32 MiB)"), r.err());
    }

    @Test
    void anInventoryFromAPipeIsRead(@TempDir Path dir) throws Exception {
        Path fifo = dir.resolve("inventory.pipe");
        assertEquals(0, new ProcessBuilder("mkfifo", fifo.toString()).start().waitFor());
        byte[] yaml = Files.readAllBytes(TestSupport.example("quickstart"));
        Thread writer = new Thread(() -> {
            try (OutputStream o = Files.newOutputStream(fifo)) {
                o.write(yaml);
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        });
        writer.start();
        var r = TestSupport.meshc("validate", fifo.toString(), "--lock", dir.resolve("none.lock").toString());
        writer.join();
        assertEquals(0, r.code(), r.err());
    }

    @Test
    void anOversizedLockFileIsRefused(@TempDir Path dir) throws IOException {
        Path inv = Files.write(dir.resolve("inventory.yml"), Files.readAllBytes(TestSupport.example("quickstart")));
        try (OutputStream o = Files.newOutputStream(dir.resolve("meshc.lock"))) {
            byte[] line = "# padding\n".repeat(1 << 16).getBytes(StandardCharsets.UTF_8);
            for (long n = 0; n <= (32L << 20); n += line.length) o.write(line);
        }
        Path out = dir.resolve("out");
        var r = TestSupport.meshc("compile", inv.toString(), "-o", out.toString());
        assertEquals(1, r.code(), r.err());
        assertTrue(r.err().contains(dir.resolve("meshc.lock") + ": error[Y103]: the file has "), r.err());
        assertFalse(Files.exists(out), "nothing written");
    }

    @Test
    void anEmptyFileAndANullDocumentAreToldApart() {
        var empty = TestSupport.meshc("validate", CORPUS.resolve("empty.yml").toString());
        assertTrue(empty.err().contains("error[Y108]: the file is empty (or only comments); an inventory is a mapping"), empty.err());
        var nul = TestSupport.meshc("validate", CORPUS.resolve("null-document.yml").toString());
        assertTrue(nul.err().contains("error[Y108]: the document is empty or null; an inventory is a mapping"), nul.err());
    }

    @Test
    void aNonFiniteNumberIsCalledOne() {
        var r = TestSupport.meshc("validate", CORPUS.resolve("port-inf.yml").toString());
        assertTrue(r.err().contains("error[S202]: 'services.db.endpoints.pg.port': a non-finite number found, integer expected"), r.err());
    }

    @Test
    void tenThousandDeepNesting(@TempDir Path dir) throws IOException {
        Path inv = dir.resolve("deep.yml");
        Files.writeString(inv, "version: 1\nx: " + "[".repeat(10_000) + "]".repeat(10_000) + "\n");
        assertRejected(inv, dir, "Y104", 2, 67);
        Path maps = dir.resolve("deep-maps.yml");
        Files.writeString(maps, "version: 1\nx: " + "{a: ".repeat(10_000) + "1" + "}".repeat(10_000) + "\n");
        assertRejected(maps, dir, "Y104", 2, 256);
    }

    @Test
    void invalidUtf8AndForeignEncodings(@TempDir Path dir) throws IOException {
        Path latin1 = dir.resolve("latin1.yml");
        Files.write(latin1, "version: 1\nvms:\n  caf\u00e9: {underlay: 192.168.0.1}\n".getBytes(StandardCharsets.ISO_8859_1));
        assertRejected(latin1, dir, "Y107", 3, 6);
        Path utf16 = dir.resolve("utf16.yml");
        Files.write(utf16, "\ufeffversion: 1\n".getBytes(StandardCharsets.UTF_16LE));
        assertRejected(utf16, dir, "Y107", 1, 1);
        Path nul = dir.resolve("nul.yml");
        Files.write(nul, "version: 1\nvms: {a\u0000: {}}\n".getBytes(StandardCharsets.UTF_8));
        assertRejected(nul, dir, "Y100", 2, 8);
    }

    @Test
    void yaml12ScalarsAreNotCoerced() {
        var r = TestSupport.frontend("s.yml", TestSupport.read(CORPUS.resolve("base.yml"))
                .replace("{port: 5432}", "{port: 0x1538, scheme: 'no'}").replace("vm-a: {underlay", "on: {underlay")
                .replace("vm: vm-a}", "vm: on}"), null);
        assertTrue(r.ok(), r.diagnostics()::toString);
        var db = r.inventory().get().services().get("db").endpoints().get("pg");
        assertEquals(5432, db.port(), "0x1538 is a YAML 1.2 integer");
        assertEquals("no", db.scheme(), "'no' stays a string");
        assertTrue(r.inventory().get().vms().containsKey("on"), "on is a name, not a boolean");
    }
}
