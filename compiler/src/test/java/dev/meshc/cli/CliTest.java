package dev.meshc.cli;

import static dev.meshc.TestSupport.meshc;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.meshc.TestSupport;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import tools.jackson.databind.ObjectMapper;

class CliTest {
    static String quickstart() {
        return TestSupport.example("quickstart").toString();
    }

    /** Every command a user can run, from picocli's own model of the command line (hidden ones are not for users). */
    static List<String> commands() {
        List<String> names = new java.util.ArrayList<>();
        new picocli.CommandLine(new Main()).getSubcommands().forEach((name, cl) -> {
            if (!cl.getCommandSpec().usageMessage().hidden()) names.add(name);
        });
        return names;
    }

    @ParameterizedTest
    @org.junit.jupiter.params.provider.MethodSource("commands")
    void everyCommandHasHelp(String command) {
        var r = meshc(command, "--help");
        assertEquals(0, r.code());
        assertTrue(r.out().contains("Usage: meshc " + command), r.out());
    }

    @Test
    void usageErrorsExit2WithoutAStackTrace() {
        for (List<String> args : List.of(List.of("compile"), List.of("validate", "a", "b"), List.of("frobnicate"),
                List.of("vip", "db", "--range", "nonsense"), List.of("explain", "999.1.1.1"), List.of("--format"))) {
            var r = meshc(args.toArray(String[]::new));
            assertEquals(2, r.code(), args + ": " + r.err());
            assertFalse(r.err().contains("\tat "), r.err());
        }
    }

    /** The launchers' class-data training run: compiles the bundled quickstart in memory, quietly, hidden from help. */
    @Test
    void cdsTrainingRunSucceedsQuietlyAndIsHidden() {
        var r = meshc("cds-train");
        assertEquals(0, r.code(), r.err());
        assertEquals("", r.out() + r.err());
        assertFalse(meshc("--help").out().contains("cds-train"));
    }

    /** A broken custom template is reported with its own position (not FreeMarker's cached-failure wrapper), and nothing is written. */
    @Test
    void aBrokenCustomTemplateIsReportedWhereItIsBroken(@TempDir Path dir) throws Exception {
        Path templates = dir.resolve("templates");
        try (var files = Files.walk(TestSupport.root().resolve("templates"))) {
            for (Path p : files.toList()) {
                Path to = templates.resolve(TestSupport.root().resolve("templates").relativize(p).toString());
                if (Files.isDirectory(p)) Files.createDirectories(to);
                else Files.copy(p, to);
            }
        }
        Path nft = templates.resolve("nftables/meshc.nft.ftl");
        Files.writeString(nft, Files.readString(nft) + "<#if x>\n");
        Path out = dir.resolve("out");
        for (int i = 0; i < 3; i++) { // the template is also parsed ahead, on another thread: whichever fails first
            var r = meshc("compile", quickstart(), "-o", out.toString(), "--templates", templates.toString());
            assertEquals(4, r.code(), r.err());
            assertTrue(r.err().contains("Syntax error in template \"nftables/meshc.nft.ftl\" in line"), r.err());
            assertFalse(r.err().contains("earlier attempt") || r.err().contains("\tat "), r.err());
            assertFalse(Files.exists(out.resolve("manifest.json")));
        }
    }

    /** A templates directory may hold only the templates it changes; the others stay the bundled ones. */
    @Test
    void aTemplatesDirectoryOverridesOnlyWhatItHolds(@TempDir Path dir) throws Exception {
        Path templates = Files.createDirectories(dir.resolve("templates/sysctl"));
        Files.writeString(templates.resolve("90-meshc.conf.ftl"), "# site policy for ${host.name}\nnet.ipv4.ip_forward = 1\n");
        Path out = dir.resolve("out"), bundled = dir.resolve("bundled");
        var r = meshc("compile", quickstart(), "-o", out.toString(), "--templates", dir.resolve("templates").toString());
        assertEquals(0, r.code(), r.err());
        assertEquals(0, meshc("compile", quickstart(), "-o", bundled.toString()).code());
        assertEquals("# site policy for vm-a\nnet.ipv4.ip_forward = 1\n", Files.readString(out.resolve("hosts/vm-a/sysctl/90-meshc.conf")));
        assertEquals(Files.readString(bundled.resolve("hosts/vm-a/nftables/meshc.nft")), Files.readString(out.resolve("hosts/vm-a/nftables/meshc.nft")));
        var missing = meshc("compile", quickstart(), "-o", out.toString(), "--templates", dir.resolve("nope").toString());
        assertEquals(2, missing.code(), missing.err());
        assertEquals("meshc: --templates " + dir.resolve("nope") + " does not exist\n", missing.err());
    }

    @Test
    void missingInventoryIsAnIoFailure() {
        var r = meshc("validate", "/nonexistent/inventory.yml");
        assertEquals(4, r.code());
        assertTrue(r.err().contains("no such file"), r.err());
    }

    @Test
    void validateQuickstart() {
        var r = meshc("validate", quickstart());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("valid (2 VMs, 3 services, 4 containers"), r.out());
    }

    @Test
    void explainNamesVmIndexAndContainer() {
        var r = meshc("explain", "247.221.80.48", quickstart());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("VM underlay:  192.168.125.213"), r.out());
        assertTrue(r.out().contains("index:        47"), r.out());
        assertTrue(r.out().contains("VM:           vm-b"), r.out());
        assertTrue(r.out().contains("container:    db-1"), r.out());
        var vip = meshc("explain", "169.254.148.129", quickstart());
        assertTrue(vip.out().contains("relationship: database of service app -> db:mysql (tcp/3306)"), vip.out());
        var bare = meshc("explain", "10.16.32.91", "--overlay", "10.0.0.0/8");
        assertTrue(bare.out().contains("VM underlay:  192.168.16.32") && bare.out().contains("index:        90"), bare.out());
        // A VM's own address: the overlay subnet derived from it, which explaining its containers' addresses agrees with.
        var vm = meshc("explain", "192.168.125.213", quickstart());
        assertEquals("192.168.125.213: in the underlay 192.168.0.0/16\n  overlay subnet: 247.221.80.0/20\n"
                + "  gateway:        247.221.80.1\n  VM:             vm-b (2 containers)\n", vm.out());
        assertTrue(r.out().contains("VM subnet:    247.221.80.0/20"), r.out());
        var none = meshc("explain", "10.1.1.1", quickstart());
        assertEquals("10.1.1.1: in none of the overlay 240.0.0.0/4, the VIP range 169.254.0.0/16 and the underlay 192.168.0.0/16\n", none.out());
    }

    @Test
    void vipPrintsTheContractExamples() {
        assertEquals("169.254.148.129\n", meshc("vip", "database").out());
        assertEquals("169.254.131.132\n", meshc("vip", "db").out());
        assertEquals("169.254.143.111\n", meshc("vip", "cache").out());
    }

    @Test
    void vipRefusesNamesNoRelationshipCanHave() {
        for (String bad : List.of("DB", "db-", "db.internal", "a".repeat(64), "db; drop", "d\u0430")) { // the last: Cyrillic a
            var r = meshc("vip", bad);
            assertEquals(2, r.code(), bad + ": " + r.out());
            assertEquals("", r.out());
            assertTrue(r.err().startsWith("meshc: '" + bad + "' is not a relationship name: a DNS label"), r.err());
            assertTrue(r.err().contains("Try 'meshc vip --help' for more information."), r.err());
        }
        assertEquals(2, meshc("vip", "").code(), "empty");
        assertEquals(0, meshc("vip", "a".repeat(63)).code());
    }

    @Test
    void schemaIsTheShippedJsonSchema() throws Exception {
        var r = meshc("schema");
        assertEquals(0, r.code());
        var tree = new ObjectMapper().readTree(r.out());
        assertEquals("https://json-schema.org/draft/2020-12/schema", tree.get("$schema").asString());
        assertEquals(TestSupport.read(TestSupport.root().resolve("schemas/inventory.schema.json")), r.out());
    }

    @Test
    void diagnosticFormats(@TempDir Path dir) throws Exception {
        Path bad = dir.resolve("bad.yml");
        Files.writeString(bad, "version: 1\nnetwork: {underlay: 192.168.0.0/16, overlay: 240.0.0.0/4, typo: 1}\nvms: {}\n");
        var text = meshc("validate", bad.toString());
        assertEquals(1, text.code());
        assertTrue(text.err().contains(bad + ":2:59: error[S200]: unknown key 'typo' in 'network'"), text.err());
        assertTrue(text.err().contains("\n    network: {underlay"), "shows the source line");
        var json = meshc("validate", bad.toString(), "--format", "json");
        var arr = new ObjectMapper().readTree(json.out());
        assertEquals("S200", arr.get(0).get("code").asString());
        assertEquals(2, arr.get(0).get("line").asInt());
        var gh = meshc("validate", bad.toString(), "--format", "github");
        assertTrue(gh.out().startsWith("::error file=" + bad.toString().replace(":", "%3A") + ",line=2,col=59,title=meshc S200::S200: unknown key"), gh.out());
    }

    @Test
    void compileCheckAndPlan(@TempDir Path dir) throws Exception {
        Path inv = dir.resolve("inventory.yml");
        Files.writeString(inv, TestSupport.read(TestSupport.example("fleet")));
        Path out = dir.resolve("out");
        var c = meshc("compile", inv.toString(), "-o", out.toString());
        assertEquals(0, c.code(), c.err());
        assertTrue(Files.exists(dir.resolve("meshc.lock")), "lock written beside the inventory");
        assertEquals(0, meshc("compile", inv.toString(), "-o", out.toString(), "--locked").code(), "lock up to date");
        assertEquals(0, meshc("check", inv.toString(), "--golden", out.toString()).code());

        Files.writeString(inv, Files.readString(inv).replace("db-3: {service: db, vm: vm3}", "db-3: {service: db, vm: vm1}"));
        assertEquals(3, meshc("compile", inv.toString(), "-o", out.toString(), "--locked").code(), "a move changes the lock");
        var check = meshc("check", inv.toString(), "--golden", out.toString());
        assertEquals(3, check.code());
        assertTrue(check.out().contains("--- a/hosts/vm1/nftables/meshc.nft\n+++ b/hosts/vm1/nftables/meshc.nft"), check.out());
        var plan = meshc("plan", inv.toString(), "--against", out.toString());
        assertEquals(0, plan.code(), plan.err());
        assertTrue(plan.out().contains("db-3: 252.128.112.4 on vm3 -> 241.2.0.5 on vm1")
                || plan.out().matches("(?s).*db-3: \\S+ on vm3 -> \\S+ on vm1.*"), plan.out());
        assertTrue(plan.out().contains("db:pg: ["), plan.out());
        var json = new ObjectMapper().readTree(meshc("plan", inv.toString(), "--against", out.toString(), "--json").out());
        assertEquals("db-3", json.get("containers").get(0).get("container").asString());
    }

    @Test
    void invalidInventoryWritesNothing(@TempDir Path dir) throws Exception {
        Path inv = dir.resolve("inventory.yml");
        Files.writeString(inv, "version: 1\nnetwork: {underlay: 192.168.0.0/16, overlay: 10.0.0.0/15}\nvms: {}\n");
        var r = meshc("compile", inv.toString(), "-o", dir.resolve("out").toString());
        assertEquals(1, r.code());
        assertTrue(r.err().contains("error[N302]: overlay /15 + 16 host bits (underlay /16) leaves 1 container bit"), r.err());
        assertFalse(Files.exists(dir.resolve("out")));
        assertFalse(Files.exists(dir.resolve("meshc.lock")));
    }

    @Test
    void compileOneHost(@TempDir Path dir) throws Exception {
        Path inv = dir.resolve("inventory.yml");
        Files.writeString(inv, TestSupport.read(TestSupport.example("fleet")));
        var r = meshc("compile", inv.toString(), "-o", dir.resolve("out").toString(), "--host", "vm2");
        assertEquals(0, r.code(), r.err());
        assertTrue(Files.exists(dir.resolve("out/hosts/vm2/nftables/meshc.nft")));
        assertFalse(Files.exists(dir.resolve("out/hosts/vm1")));
        assertEquals(2, meshc("compile", inv.toString(), "-o", dir.resolve("out").toString(), "--host", "nope").code());

        // Byte for byte the files a full compile writes for that VM (and the Ansible inventory).
        Path full = dir.resolve("full");
        assertEquals(0, meshc("compile", inv.toString(), "-o", full.toString()).code());
        List<String> mine;
        try (var s = Files.walk(dir.resolve("out"))) {
            mine = s.filter(Files::isRegularFile).map(p -> dir.resolve("out").relativize(p).toString())
                    .filter(p -> !p.equals("manifest.json") && !p.startsWith(".")).sorted().toList();
        }
        assertTrue(mine.size() > 10 && mine.contains("ansible/inventory.yml"), mine.toString());
        for (String p : mine) {
            assertEquals(Files.readString(full.resolve(p)), Files.readString(dir.resolve("out").resolve(p)), p);
        }
        // Into a full tree, only with --prune-other-hosts: OUT becomes exactly the --host output, the other VMs' files go (README).
        assertEquals(0, meshc("compile", inv.toString(), "-o", full.toString(), "--host", "vm2", "--prune-other-hosts").code());
        try (var s = Files.list(full.resolve("hosts"))) {
            assertEquals(List.of("vm2"), s.map(p -> p.getFileName().toString()).toList());
        }
    }

    @Test
    void refusesAnOutputDirectoryThatIsNotMeshcsBeforeCompiling(@TempDir Path dir) throws Exception {
        Path etc = Files.createDirectories(dir.resolve("etc"));
        Files.writeString(etc.resolve("hosts"), "127.0.0.1 localhost\n");
        var r = meshc("compile", quickstart(), "-o", etc.toString());
        assertEquals(2, r.code(), r.err());
        assertEquals("meshc: refusing to write: " + etc + " is not empty (hosts) and holds no manifest meshc wrote;"
                + " choose an empty directory or one meshc wrote before\n", r.err());
        try (var s = Files.list(etc)) {
            assertEquals(List.of("hosts"), s.map(p -> p.getFileName().toString()).toList());
        }
        var file = meshc("compile", quickstart(), "-o", etc.resolve("hosts").toString());
        assertEquals(2, file.code(), file.err());
        assertTrue(file.err().contains("exists and is not a directory"), file.err());
    }

    @Test
    void aLockPathThatCannotBeWrittenIsRefusedBeforeAnythingIsWritten(@TempDir Path dir) throws Exception {
        Path out = dir.resolve("out");
        Path lockDir = Files.createDirectories(dir.resolve("a-directory"));
        var r = meshc("compile", quickstart(), "-o", out.toString(), "--lock", lockDir.toString());
        assertEquals(2, r.code(), r.err());
        assertEquals("meshc: --lock " + lockDir + " is not a file\n", r.err());
        Path missing = dir.resolve("no/such/dir/meshc.lock");
        r = meshc("compile", quickstart(), "-o", out.toString(), "--lock", missing.toString());
        assertEquals(2, r.code(), r.err());
        assertEquals("meshc: --lock " + missing + ": the directory " + missing.getParent() + " does not exist\n", r.err());
        assertFalse(Files.exists(out), "nothing written");
        // --locked never writes the lock: a missing one is a lock that would change (exit 3), not a usage error.
        assertEquals(3, meshc("compile", quickstart(), "-o", out.toString(), "--lock", missing.toString(), "--locked").code());
        assertEquals(2, meshc("validate", quickstart(), "--lock", lockDir.toString()).code());
    }

    @Test
    void checkAndPlanRefuseADirectoryArgumentThatIsNotOne(@TempDir Path dir) throws Exception {
        Path file = Files.writeString(dir.resolve("a-file"), "x");
        var r = meshc("check", quickstart(), "--golden", file.toString());
        assertEquals(2, r.code(), r.err());
        assertEquals("meshc: --golden " + file + " is not a directory\n", r.err());
        assertEquals("", r.out(), "no diff against nothing");
        Path missing = dir.resolve("golden");
        r = meshc("check", quickstart(), "--golden", missing.toString());
        assertEquals(2, r.code(), r.err());
        assertTrue(r.err().contains("does not exist; approve a first output with 'meshc compile INVENTORY -o " + missing + "'"), r.err());
        assertEquals(2, meshc("plan", quickstart(), "--against", file.toString()).code());
        var first = meshc("plan", quickstart(), "--against", missing.toString()); // a first deploy: everything added
        assertEquals(0, first.code(), first.err());
        long vmA = TestSupport.compileExample("quickstart").keySet().stream().filter(p -> p.startsWith("hosts/vm-a/")).count();
        assertTrue(vmA > 1, "quickstart's vm-a has files");
        assertTrue(first.out().contains("vm-a: " + vmA + " added, 0 changed, 0 removed"), first.out());
    }

    @Test
    void anEmptyFileInTheDiffIsCalledOne(@TempDir Path dir) throws Exception {
        Path golden = dir.resolve("golden");
        assertEquals(0, meshc("compile", quickstart(), "-o", golden.toString(), "--lock", dir.resolve("l").toString()).code());
        Files.delete(golden.resolve("hosts/vm-b/containers/db-1/hosts")); // empty: db has no relationships
        var r = meshc("check", quickstart(), "--golden", golden.toString(), "--lock", dir.resolve("l").toString());
        assertEquals(3, r.code(), r.err());
        assertEquals("--- /dev/null\n+++ b/hosts/vm-b/containers/db-1/hosts\n@@ a new, empty file @@\n", r.out());
    }

    /**
     * The heap a compile needs, reckoned from the measured points in CompileCommand's comment, against
     * the heaps real JVMs report for the launcher's collector (not numbers copied from one JVM) and the
     * inventory limit R411 enforces.
     */
    @Test
    void capacityFollowsTheHeap() throws Exception {
        long perGiB = CompileCommand.CONTAINERS_PER_GIB;
        for (int gib : new int[] {1, 2, 4}) {
            long reported = maxMemory("-Xmx" + gib + "g");
            assertTrue(CompileCommand.capacity(reported) >= gib * perGiB,
                    "-Xmx" + gib + "g reports " + reported + " bytes: capacity " + CompileCommand.capacity(reported) + " < " + gib * perGiB);
            assertTrue(CompileCommand.capacity(reported) < (gib + 1) * perGiB, "no more than was measured to fit");
        }
        var limit = Class.forName("dev.meshc.validate.SizeLimitRule").getDeclaredField("MAX_CONTAINERS");
        limit.setAccessible(true);
        long maxContainers = limit.getInt(null);
        long gibForLimit = (maxContainers + perGiB - 1) / perGiB;
        assertTrue(CompileCommand.capacity(maxMemory("-Xmx" + gibForLimit + "g")) >= maxContainers,
                "the inventory limit (R411) fits in the -Xmx the refusal suggests for it");
        assertEquals(Long.MAX_VALUE, CompileCommand.capacity(Long.MAX_VALUE));
        String readme = TestSupport.read(TestSupport.root().resolve("README.md"));
        assertTrue(readme.contains(String.format(java.util.Locale.ROOT, "%,d per GiB of `-Xmx`", perGiB)), "README's limits table");
    }

    /** {@code Runtime.maxMemory()} of a JVM started with the launcher's collector and the given heap option. */
    static long maxMemory(String xmx) throws Exception {
        String javaBin = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Process p = new ProcessBuilder(javaBin, "-XX:+UseParallelGC", xmx, "-cp", System.getProperty("java.class.path"),
                MaxMemory.class.getName()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8).trim();
        assertEquals(0, p.waitFor(), out);
        return Long.parseLong(out);
    }

    /** Prints this JVM's maximum heap. */
    public static final class MaxMemory {
        public static void main(String[] args) {
            System.out.println(Runtime.getRuntime().maxMemory());
        }
    }

    /** A fleet too large for the heap is refused at once with the -Xmx to use, not after minutes of GC and an exit 70. */
    @Test
    void aFleetTooLargeForTheHeapIsRefusedWithTheHeapToUse(@TempDir Path dir) throws Exception {
        Path inv = dir.resolve("M.yml");
        assertEquals(0, meshc("fleet", "M", "-o", inv.toString()).code());
        String javaBin = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Process p = new ProcessBuilder(javaBin, "-XX:+UseParallelGC", "-Xmx48m", "-cp", System.getProperty("java.class.path"), "dev.meshc.cli.Main",
                "compile", inv.toString(), "-o", dir.resolve("out").toString(), "--lock", dir.resolve("M.lock").toString(), "-q")
                .redirectErrorStream(true).start();
        String output = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        assertEquals(2, p.waitFor(), output);
        assertTrue(output.matches("(?s)meshc compile: 10,000 containers to compile, but this JVM's heap \\(\\d+ MiB\\) holds about [0-9,]+"
                + " \\(125,000 per GiB of -Xmx\\); run it with MESHC_JAVA_OPTS=-Xmx1g\n"), output);
        assertFalse(Files.exists(dir.resolve("out")));
    }
}
