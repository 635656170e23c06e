package dev.meshc.validate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.meshc.TestSupport;
import dev.meshc.diag.Code;
import dev.meshc.diag.Diagnostic;
import dev.meshc.diag.Severity;
import dev.meshc.load.InputLimits;
import dev.meshc.plan.Frontend;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The diagnostic corpus: every file in test resources {@code cases/} states on its first lines what
 * meshc must report for it, one {@code # expect: CODE LINE:COL} line per diagnostic (errors and
 * warnings; {@code # expect: CODE} for a diagnostic about the whole file), or {@code # expect: valid}.
 * A quoted text after the position, {@code # expect: R403 18:29 "did you mean 'vm-a'?"}, must appear in
 * that diagnostic's message.
 * A case must get exactly those diagnostics, nothing more; through the CLI it must exit 1 (0 without
 * errors), print no stack trace and write nothing. To add a case, add a file. After a deliberate change of
 * what meshc reports, {@code mvn test -Dtest=DiagnosticCasesTest#rewriteExpectations -Dcases.rewrite=true}
 * rewrites every file's expect lines from what it now reports: review that diff like a golden-file diff.
 *
 * <p>Codes that a committed file cannot show (a file too large to commit, invalid UTF-8, a lock, size
 * limits) have generated cases below, listed in {@link #GENERATED}; together with the corpus they must
 * cover every {@link Code}.
 */
class DiagnosticCasesTest {
    static final Path CORPUS = TestSupport.root().resolve("compiler/src/test/resources/cases");
    private static final Pattern EXPECT = Pattern.compile("# expect: ([A-Z][0-9]{3})(?: ([0-9]+):([0-9]+))?(?: \"(.*)\")?");

    /** Codes shown by generated cases, with the test that shows each (in this class or DayTwoTest). */
    static final Map<Code, String> GENERATED = Map.of(
            Code.Y103, "oversizedInputIsY103",
            Code.Y107, "invalidUtf8IsY107AtTheByte",
            Code.R411, "tooManyVmsIsR411",
            Code.N311, "moreThan1025VmsWarnN311",
            Code.L500, "malformedLockIsL500AtItsLine",
            Code.L501, "lockedCompileThatWouldChangeTheLockIsL501",
            Code.L502, "pinningALockedIndexDisplacesWithL502",
            Code.L503, "compilingWithoutTheLockIntoAnEarlierOutputWarnsL503",
            Code.T700, "anOldTargetIsWarnedWithT700");

    /** One corpus file and what it must produce, as {@code CODE LINE:COL} strings. */
    record Case(String file, List<String> expected, Map<String, String> texts) {
        @Override
        public String toString() {
            return file;
        }

        boolean hasErrors() {
            return expected.stream().anyMatch(e -> Code.valueOf(e.substring(0, 4)).severity() == Severity.ERROR);
        }
    }

    static List<Case> cases() {
        try (Stream<Path> s = Files.list(CORPUS)) {
            return s.filter(p -> p.toString().endsWith(".yml")).sorted().map(DiagnosticCasesTest::parse).toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static Case parse(Path file) {
        String text = TestSupport.read(file).replace("\ufeff", "");
        List<String> expected = new ArrayList<>();
        Map<String, String> texts = new TreeMap<>();
        boolean valid = false;
        for (String line : text.split("\n")) {
            if (!line.startsWith("# expect:")) break;
            if (line.equals("# expect: valid")) {
                valid = true;
                continue;
            }
            Matcher m = EXPECT.matcher(line);
            if (!m.matches()) throw new AssertionError(file.getFileName() + ": cannot read '" + line + "'");
            Code.valueOf(m.group(1)); // an unknown code fails here
            String at = m.group(1) + " " + (m.group(2) == null ? "0:0" : m.group(2) + ":" + m.group(3));
            expected.add(at);
            if (m.group(4) != null) texts.put(at, m.group(4));
        }
        if (expected.isEmpty() && !valid) throw new AssertionError(file.getFileName() + " states no expectation on its first line");
        expected.sort(null);
        return new Case(file.getFileName().toString(), List.copyOf(expected), texts);
    }

    static List<String> reported(List<Diagnostic> diags) {
        return diags.stream().map(d -> d.code().name() + " " + d.at().line() + ":" + d.at().column()).sorted().toList();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void reportsExactlyWhatTheCaseExpects(Case c) throws IOException {
        byte[] bytes = Files.readAllBytes(CORPUS.resolve(c.file()));
        Frontend.Result r = Frontend.run(c.file(), bytes, c.file() + ".lock", null);
        assertEquals(c.expected(), reported(r.diagnostics()), () -> c.file() + ":\n" + String.join("\n",
                r.diagnostics().stream().map(Diagnostic::toString).toList()));
        assertEquals(!c.hasErrors(), r.ok(), "errors stop the pipeline, warnings do not");
        c.texts().forEach((at, text) -> assertTrue(r.diagnostics().stream().anyMatch(d -> reported(List.of(d)).get(0).equals(at)
                && d.message().contains(text)), () -> c.file() + ": " + at + " must say \"" + text + "\": " + r.diagnostics()));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void theCliRejectsCleanlyAndWritesNothing(Case c, @TempDir Path dir) throws IOException {
        Path inv = dir.resolve(c.file());
        Files.copy(CORPUS.resolve(c.file()), inv);
        if (!c.hasErrors()) {
            assertEquals(0, TestSupport.meshc("validate", inv.toString()).code());
            return;
        }
        Path out = dir.resolve("out");
        var r = TestSupport.meshc("compile", inv.toString(), "-o", out.toString());
        assertEquals(1, r.code(), r.err());
        for (String e : c.expected()) {
            String[] f = e.split("[ :]");
            String where = inv + (f[1].equals("0") ? "" : ":" + f[1] + ":" + f[2]);
            String label = Code.valueOf(f[0]).severity().label();
            assertTrue(r.err().contains(where + ": " + label + "[" + f[0] + "]"), () -> "expected " + where + " " + f[0] + " in:\n" + r.err());
        }
        assertFalse(r.err().contains("Exception") || r.err().contains("\tat ") || r.err().contains("internal error"), r.err());
        assertFalse(Files.exists(out), "nothing written");
        assertFalse(Files.exists(dir.resolve("meshc.lock")), "no lock written");
        for (String format : List.of("json", "github")) {
            var f = TestSupport.meshc("validate", inv.toString(), "--format", format);
            assertEquals(1, f.code());
            for (String e : c.expected()) assertTrue(f.out().contains(e.substring(0, 4)), f.out());
        }
    }

    @Test
    void rewriteExpectations() throws IOException {
        org.junit.jupiter.api.Assumptions.assumeTrue(Boolean.getBoolean("cases.rewrite"), "only on request");
        for (Case c : cases()) {
            Path file = CORPUS.resolve(c.file());
            for (int round = 0; round < 3; round++) { // the header's length moves positions: repeat until stable
                byte[] bytes = Files.readAllBytes(file);
                boolean bom = bytes.length >= 3 && (bytes[0] & 0xff) == 0xEF && (bytes[1] & 0xff) == 0xBB && (bytes[2] & 0xff) == 0xBF;
                String text = new String(bytes, StandardCharsets.UTF_8).replace("\ufeff", "");
                List<String> lines = new ArrayList<>(Arrays.asList(text.split("\n", -1)));
                while (!lines.isEmpty() && lines.get(0).startsWith("# expect:")) lines.remove(0);
                List<Diagnostic> diags = Frontend.run(c.file(), bytes, c.file() + ".lock", null).diagnostics();
                Map<String, String> texts = parse(file).texts(); // kept where code and position still match
                List<String> header = new ArrayList<>();
                for (Diagnostic d : diags) {
                    String at = reported(List.of(d)).get(0);
                    String said = texts.get(at);
                    header.add("# expect: " + d.code().name() + (d.at().hasPosition() ? " " + d.at().line() + ":" + d.at().column() : "")
                            + (said != null ? " \"" + said + "\"" : ""));
                }
                if (header.isEmpty()) header.add("# expect: valid");
                header.addAll(lines);
                Files.writeString(file, (bom ? "\ufeff" : "") + String.join("\n", header), StandardCharsets.UTF_8);
            }
        }
    }

    @Test
    void everyCodeHasACase() {
        Set<Code> covered = EnumSet.noneOf(Code.class);
        for (Case c : cases()) for (String e : c.expected()) covered.add(Code.valueOf(e.substring(0, 4)));
        covered.addAll(GENERATED.keySet());
        Set<Code> missing = EnumSet.allOf(Code.class);
        missing.removeAll(covered);
        assertEquals(Set.of(), missing, "codes without a case in " + CORPUS + " or a generated one");
        Set<String> methods = new java.util.HashSet<>();
        for (var m : DiagnosticCasesTest.class.getDeclaredMethods()) methods.add(m.getName());
        for (var m : dev.meshc.cli.DayTwoTest.class.getDeclaredMethods()) methods.add(m.getName());
        for (var m : TargetCheckTest.class.getDeclaredMethods()) methods.add(m.getName());
        for (var e : new TreeMap<>(GENERATED).entrySet()) assertTrue(methods.contains(e.getValue()), e + ": no such test");
    }

    @Test
    void theHarnessNoticesAMissingOrAnExtraDiagnostic() {
        Case c = parse(CORPUS.resolve("capacity-exceeded.yml"));
        List<String> missing = new ArrayList<>(c.expected());
        missing.add("R406 1:1");
        missing.sort(null);
        assertFalse(missing.equals(reported(TestSupport.frontend(c.file(), TestSupport.read(CORPUS.resolve(c.file())), null).diagnostics())));
        assertTrue(Arrays.stream(Code.values()).anyMatch(code -> code.severity() == Severity.WARNING), "severity comes from the code");
    }

    // Generated cases: inputs a committed file cannot hold.

    @Test
    void invalidUtf8IsY107AtTheByte() {
        byte[] bytes = "version: 1\nvms: {caf\u00e9: {}}\n".getBytes(StandardCharsets.ISO_8859_1);
        Frontend.Result r = Frontend.run("u.yml", bytes, "l", null);
        assertEquals(List.of("Y107 2:10"), reported(r.diagnostics()));
        byte[] utf16 = "\ufeffversion: 1\n".getBytes(StandardCharsets.UTF_16BE);
        assertEquals(List.of("Y107 1:1"), reported(Frontend.run("u.yml", utf16, "l", null).diagnostics()));
    }

    @Test
    void oversizedInputIsY103() {
        byte[] bytes = TestSupport.read(CORPUS.resolve("base.yml")).getBytes(StandardCharsets.UTF_8);
        Frontend.Result r = Frontend.run("big.yml", bytes, "l", null, new InputLimits(100, 64, 50, 1000));
        assertEquals(List.of("Y103 0:0"), reported(r.diagnostics()));
    }

    @Test
    void tooManyVmsIsR411() {
        StringBuilder sb = new StringBuilder("version: 1\nnetwork: {underlay: 10.0.0.0/8, overlay: 240.0.0.0/4, vip: 169.254.0.0/16}\nvms:\n");
        for (int i = 0; i < SizeLimitRule.MAX_VMS + 1; i++) {
            sb.append("  v").append(i).append(": {underlay: 10.").append(i >> 8 & 255).append('.').append(i & 255).append(".1}\n");
        }
        Frontend.Result r = TestSupport.frontend("many.yml", sb.toString(), null);
        assertTrue(r.diagnostics().stream().anyMatch(d -> d.code() == Code.R411 && d.message().contains("10001 VMs")), r.diagnostics()::toString);
    }

    @Test
    void moreThan1025VmsWarnN311() {
        StringBuilder sb = new StringBuilder("version: 1\nnetwork: {underlay: 10.0.0.0/16, overlay: 240.0.0.0/4}\nvms:\n");
        for (int i = 1; i <= 1026; i++) sb.append("  vm-").append(i).append(": {underlay: 10.0.").append(i >> 8).append('.').append(i & 255).append("}\n");
        Frontend.Result r = TestSupport.frontend("n.yml", sb.toString(), null);
        assertTrue(r.ok(), "a warning, not an error");
        assertEquals(List.of("N311 4:3"), reported(r.diagnostics()).stream().filter(s -> !s.startsWith("L")).toList());
        Frontend.Result small = TestSupport.frontend("n.yml", sb.toString().replaceAll("(?m)^  vm-10(2[5-6]).*\n", ""), null);
        assertTrue(small.diagnostics().stream().noneMatch(d -> d.code() == Code.N311), "1,024 VMs fit");
    }

    @Test
    void malformedLockIsL500AtItsLine() {
        Frontend.Result r = TestSupport.frontend("base.yml", TestSupport.read(CORPUS.resolve("base.yml")), "# header\napp-1 vm-a one\n");
        assertEquals(List.of("L500 2:1"), reported(r.diagnostics()));
        assertEquals("base.yml.lock", r.diagnostics().get(0).at().file());
    }

    @Test
    void lockedCompileThatWouldChangeTheLockIsL501(@TempDir Path dir) throws Exception {
        Path inv = dir.resolve("inventory.yml");
        Files.writeString(inv, TestSupport.read(CORPUS.resolve("base.yml")));
        var run = TestSupport.meshc("compile", inv.toString(), "-o", dir.resolve("out").toString(), "--locked");
        assertEquals(3, run.code(), run.err());
        assertTrue(run.err().contains("error[L501]"), run.err());
        assertFalse(Files.exists(dir.resolve("out")), "nothing is written");
        assertFalse(Files.exists(dir.resolve("meshc.lock")), "the lock is not written");
    }

    @Test
    void pinningALockedIndexDisplacesWithL502() {
        String yaml = TestSupport.read(CORPUS.resolve("base.yml")).replace("{service: app, vm: vm-a}", "{service: app, vm: vm-a, index: 2}");
        Frontend.Result r = TestSupport.frontend("base.yml", yaml, "app-1 vm-a 1\ndb-1 vm-a 2\n");
        assertTrue(r.ok());
        assertEquals(List.of("L502 18:3"), reported(r.diagnostics()));
        // the displaced container takes the next index after the VM's highest, not app-1's freed 1
        assertEquals(3, r.plan().get().containers().get("db-1").index());
    }
}
