package dev.meshc.validate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.meshc.TestSupport;
import dev.meshc.diag.Code;
import dev.meshc.diag.Diagnostic;
import dev.meshc.load.InputLimits;
import dev.meshc.plan.Frontend;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every diagnostic code, each with a bad inventory (test resources {@code diagnostics/CODE.yml})
 * and the exact position it must be reported at. A last test fails if a code has no case.
 */
class DiagnosticCodesTest {
    static final Set<Code> COVERED = EnumSet.noneOf(Code.class);

    static Stream<Arguments> cases() {
        return Stream.of(
                Arguments.of("Y100", 3, 1), Arguments.of("Y101", 2, 1), Arguments.of("Y102", 7, 28),
                Arguments.of("Y104", 2, 67), Arguments.of("Y105", 2, 1), Arguments.of("Y106", 2, 10),
                Arguments.of("Y108", 1, 1), Arguments.of("Y109", 2, 3),
                Arguments.of("S200", 6, 35), Arguments.of("S201", 2, 1), Arguments.of("S202", 13, 18),
                Arguments.of("S203", 6, 20), Arguments.of("S204", 13, 18), Arguments.of("S205", 5, 18),
                Arguments.of("N300", 15, 3), Arguments.of("N301", 3, 13), Arguments.of("N302", 4, 12),
                Arguments.of("N303", 4, 12), Arguments.of("N304", 5, 8), Arguments.of("N305", 5, 18),
                Arguments.of("N306", 5, 10), Arguments.of("N307", 6, 20), Arguments.of("N308", 6, 20),
                Arguments.of("N310", 6, 8),
                Arguments.of("R400", 10, 17), Arguments.of("R401", 10, 17), Arguments.of("R402", 16, 19),
                Arguments.of("R403", 16, 27), Arguments.of("R404", 7, 20), Arguments.of("R405", 16, 40),
                Arguments.of("R406", 16, 40), Arguments.of("R407", 6, 3), Arguments.of("R408", 11, 7),
                Arguments.of("R409", 17, 13), Arguments.of("R410", 11, 13), Arguments.of("R412", 13, 19));
    }

    static String resource(String name) {
        return TestSupport.read(TestSupport.root().resolve("compiler/src/test/resources/diagnostics").resolve(name));
    }

    static void assertReported(List<Diagnostic> diags, Code code, int line, int col) {
        assertTrue(diags.stream().anyMatch(d -> d.code() == code && d.at().line() == line && d.at().column() == col),
                () -> "expected " + code + " at " + line + ":" + col + " in " + diags);
        COVERED.add(code);
    }

    @ParameterizedTest(name = "{0} at {1}:{2}")
    @MethodSource("cases")
    void reportsCodeAtPosition(String code, int line, int col) {
        Frontend.Result r = TestSupport.frontend(code + ".yml", resource(code + ".yml"), null);
        assertReported(r.diagnostics(), Code.valueOf(code), line, col);
        if (!code.equals("R410")) assertFalse(r.ok(), "an error must stop the pipeline");
        else assertTrue(r.ok(), "R410 is a warning");
    }

    @Test
    void invalidUtf8IsY107AtTheByte() {
        byte[] bytes = "version: 1\nvms: {caf\u00e9: {}}\n".getBytes(StandardCharsets.ISO_8859_1);
        Frontend.Result r = Frontend.run("u.yml", bytes, "l", null);
        assertReported(r.diagnostics(), Code.Y107, 2, 10);
    }

    @Test
    void utf16ByteOrderMarkIsY107() {
        byte[] bytes = "\ufeffversion: 1\n".getBytes(StandardCharsets.UTF_16BE);
        assertReported(Frontend.run("u.yml", bytes, "l", null).diagnostics(), Code.Y107, 1, 1);
    }

    @Test
    void oversizedInputIsY103() {
        byte[] bytes = resource("base.yml").getBytes(StandardCharsets.UTF_8);
        Frontend.Result r = Frontend.run("big.yml", bytes, "l", null, new InputLimits(100, 64, 50, 1000));
        assertEquals(Code.Y103, r.diagnostics().get(0).code());
        COVERED.add(Code.Y103);
    }

    @Test
    void tooManyVmsIsR411() {
        StringBuilder sb = new StringBuilder("version: 1\nnetwork: {underlay: 10.0.0.0/8, overlay: 240.0.0.0/4, vip: 169.254.0.0/16}\nvms:\n");
        for (int i = 0; i < SizeLimitRule.MAX_VMS + 1; i++) {
            sb.append("  v").append(i).append(": {underlay: 10.").append(i >> 8 & 255).append('.').append(i & 255).append(".1}\n");
        }
        Frontend.Result r = TestSupport.frontend("many.yml", sb.toString(), null);
        assertTrue(r.diagnostics().stream().anyMatch(d -> d.code() == Code.R411 && d.message().contains("10001 VMs")), r.diagnostics()::toString);
        COVERED.add(Code.R411);
    }

    @Test
    void moreThan1025VmsWarnN311() {
        StringBuilder sb = new StringBuilder("version: 1\nnetwork: {underlay: 10.0.0.0/16, overlay: 240.0.0.0/4}\nvms:\n");
        for (int i = 1; i <= 1026; i++) sb.append("  vm-").append(i).append(": {underlay: 10.0.").append(i >> 8).append('.').append(i & 255).append("}\n");
        Frontend.Result r = TestSupport.frontend("n.yml", sb.toString(), null);
        assertTrue(r.ok(), "a warning, not an error");
        assertReported(r.diagnostics(), Code.N311, 4, 3);
        Frontend.Result small = TestSupport.frontend("n.yml", sb.toString().replaceAll("(?m)^  vm-10(2[5-6]).*\n", ""), null);
        assertTrue(small.diagnostics().stream().noneMatch(d -> d.code() == Code.N311), "1,024 VMs fit");
    }

    @Test
    void malformedLockIsL500AtItsLine() {
        Frontend.Result r = TestSupport.frontend("base.yml", resource("base.yml"), "# header\napp-1 vm-a one\n");
        assertReported(r.diagnostics(), Code.L500, 2, 1);
        assertEquals("base.yml.lock", r.diagnostics().get(0).at().file());
    }

    @Test
    void lockedCompileThatWouldChangeTheLockIsL501(@org.junit.jupiter.api.io.TempDir Path dir) throws Exception {
        Path inv = dir.resolve("inventory.yml");
        java.nio.file.Files.writeString(inv, resource("base.yml"));
        var run = TestSupport.meshc("compile", inv.toString(), "-o", dir.resolve("out").toString(), "--locked");
        assertEquals(3, run.code(), run.err());
        assertTrue(run.err().contains("error[L501]"), run.err());
        assertFalse(java.nio.file.Files.exists(dir.resolve("out")), "nothing is written");
        assertFalse(java.nio.file.Files.exists(dir.resolve("meshc.lock")), "the lock is not written");
        COVERED.add(Code.L501);
    }

    /** validate --target: an old systemd or nftables gets a warning naming what fails and what to use. */
    @Test
    void anOldTargetIsWarnedWithT700() throws Exception {
        var ok = TestSupport.meshc("validate", TestSupport.example("quickstart").toString(), "--target", "systemd=252,nftables=1.0.6,kernel=6.1");
        assertEquals(0, ok.code(), ok.err());
        assertFalse(ok.err().contains("T700"), ok.err());
        var old = TestSupport.meshc("validate", TestSupport.example("quickstart").toString(), "--target", "systemd=245,nftables=0.9.8");
        assertEquals(0, old.code(), old.err());
        assertTrue(old.err().contains("warning[T700]: systemd 245 ignores Independent="), old.err());
        assertTrue(old.err().contains("--routing ip") && old.err().contains("nftables 0.9.8 is older than 1.0.1"), old.err());
        var bad = TestSupport.meshc("validate", TestSupport.example("quickstart").toString(), "--target", "systemd=old");
        assertEquals(2, bad.code(), bad.err());
        COVERED.add(Code.T700);
    }

    @Test
    void pinningALockedIndexDisplacesWithL502() {
        String yaml = resource("base.yml").replace("{service: app, vm: vm-a}", "{service: app, vm: vm-a, index: 2}");
        Frontend.Result r = TestSupport.frontend("base.yml", yaml, "app-1 vm-a 1\ndb-1 vm-a 2\n");
        assertTrue(r.ok());
        assertReported(r.diagnostics(), Code.L502, 16, 3);
        // the displaced container takes the next index after the VM's highest, not app-1's freed 1
        assertEquals(3, r.plan().get().containers().get("db-1").index());
    }

    @Test
    void fiveMistakesFiveDiagnostics() {
        String yaml = """
                version: 1
                network:
                  underlay: 192.168.1.0/16
                  overlay: 240.0.0.0/4
                vms:
                  vm-a: {underlay: 192.168.16.32}
                  vm-b: {underlay: 10.0.0.5}
                services:
                  app:
                    relationships:
                      database: db:mysql
                  db:
                    endpoints:
                      pg: {port: 5432}
                containers:
                  app-1: {service: app, vm: vm-c}
                  Db_1: {service: db, vm: vm-a}
                """;
        List<Diagnostic> d = TestSupport.frontend("five.yml", yaml, null).diagnostics();
        assertEquals(5, d.stream().filter(Diagnostic::isError).count(), d::toString);
        assertReported(d, Code.N301, 3, 13);
        assertReported(d, Code.N307, 7, 20);
        assertReported(d, Code.R401, 11, 17);
        assertReported(d, Code.R403, 16, 29);
        assertReported(d, Code.N300, 17, 3);
        var run = TestSupport.meshc("validate", TestSupport.root().resolve("compiler/src/test/resources/diagnostics/N300.yml").toString());
        assertEquals(1, run.code());
    }

    @AfterAll
    static void everyCodeHasACase() {
        Set<Code> missing = EnumSet.allOf(Code.class);
        missing.removeAll(COVERED);
        // Runs after all cases; only meaningful when the whole class ran.
        if (COVERED.size() > 30) assertEquals(Set.of(), missing, "codes without a test case");
    }
}
