package dev.meshc.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import dev.meshc.TestSupport;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.platform.engine.support.descriptor.ClassSource;
import org.junit.platform.launcher.TestExecutionListener;
import org.junit.platform.launcher.TestPlan;

/**
 * The kernel suite's scenarios over GRE with real packets. This machine's kernel has no ip_gre, so
 * they run in a guest kernel that has it ({@link Guest}); a kernel with GRE runs them directly in a
 * second JVM. Either way each class below runs with {@code MESHC_E2E_ENCAP=gre}, in one JVM, and
 * every test in it must pass (none skipped).
 *
 * <p>The guest is slow (an emulated CPU unless KVM works) but mostly independent of this JVM, so it
 * starts when the test plan that contains this class starts ({@link EarlyStart}, registered through
 * META-INF/services) and runs beside the rest of the suite; this test waits for it. Alone
 * ({@code mvn -B verify -Dtest=GuestGreTest}) it simply runs.
 */
@Tag("kernel")
@Order(Integer.MAX_VALUE) // the last class (junit-platform.properties): the guest started with the plan has the whole suite's time
class GuestGreTest {
    /** The kernel test classes run over GRE. Another scenario class joins with one line here. */
    static final List<Class<?>> GRE_SCENARIOS = List.of(
            EndToEndTest.class, AttackAndChurnTest.class);

    /** Modules the GRE scenarios load in the guest (the rest are loaded on demand through the host's modprobe). */
    static final List<String> GRE_MODULES = List.of("ip_gre", "veth", "bridge", "nf_tables", "nft_fib_ipv4", "nf_nat", "xt_statistic");

    /**
     * The guest's virtual CPUs. One: emulated, each is a host thread as busy as it can be, and the guest
     * runs beside the rest of the suite on a two-core machine; with one it never takes more than one core
     * from the suite (with two, 1,245 s of qemu CPU in 1,271 s wall: it hardly used the second).
     */
    static final int GUEST_CPUS = 1;

    /** The guest's time limit; the whole run is measured and printed. */
    static final int GUEST_TIMEOUT_SECONDS = 2400;

    /** Where the guest's results go (shared read-write with the guest; emptied when it starts). */
    static final java.nio.file.Path RESULTS = TestSupport.root().resolve("compiler/target/guest/gre");

    /** With MESHC_TEST_TIMING set, the guest's own timing log goes to its results (the host's root is read-only there). */
    static final Map<String, String> ENV = System.getenv("MESHC_TEST_TIMING") == null ? Map.of("CI", "true", "MESHC_E2E_ENCAP", "gre")
            : Map.of("CI", "true", "MESHC_E2E_ENCAP", "gre", "MESHC_TEST_TIMING", RESULTS.resolve("timing.tsv").toString());

    private static CompletableFuture<Guest.Run> guest;
    private static long startedAt;
    private static String startedBy = "";

    /**
     * qemu's niceness when the guest runs beside the rest of the suite ({@code -Dmeshc.guest.nice=N}): the
     * suite's own processes come first, the guest takes the CPU they leave idle. Alone it runs at 0.
     */
    static final int NICE_BESIDE_SUITE = Integer.getInteger("meshc.guest.nice", 0);

    /** The guest run, started at most once per JVM ({@code beside}: while the rest of the suite runs). */
    static synchronized CompletableFuture<Guest.Run> guest(String by, boolean beside) {
        if (guest == null) {
            List<String> classes = GRE_SCENARIOS.stream().map(Class::getName).toList();
            startedAt = System.nanoTime();
            startedBy = by;
            guest = CompletableFuture.supplyAsync(() -> Guest.junit(classes, ENV, GRE_MODULES,
                    RESULTS, GUEST_TIMEOUT_SECONDS, beside ? NICE_BESIDE_SUITE : 0, GUEST_CPUS), r -> {
                        Thread t = new Thread(r, "meshc-guest");
                        t.setDaemon(true);
                        t.start();
                    });
        }
        return guest;
    }

    @Test
    void greScenariosPassOnAKernelWithGre() throws Exception {
        Kernel.require();
        List<String> classes = GRE_SCENARIOS.stream().map(Class::getName).toList();
        if (Kernel.hasLinkKind("gre")) {
            List<String> cmd = new ArrayList<>(List.of(Guest.javaBinary(), "-Dmeshc.root=" + TestSupport.root(), "-cp", Guest.testClasspath(),
                    GuestMain.class.getName()));
            cmd.addAll(classes);
            ProcessBuilder pb = new ProcessBuilder(cmd).inheritIO();
            pb.environment().putAll(ENV);
            assertEquals(0, pb.start().waitFor(), "GRE scenarios on this kernel (output above)");
            return;
        }
        Guest.require();
        long waitFrom = System.nanoTime();
        Guest.Run run = guest("the test", false).get();
        System.err.printf(java.util.Locale.ROOT, "GuestGreTest: the guest ran %d s (started by %s; this test waited %d s for it)%n%s%n",
                Math.round(run.seconds()), startedBy, Math.round((System.nanoTime() - waitFrom) / 1e9), run.harness().strip());
        run.log().lines().filter(l -> l.startsWith("GUEST-") || l.startsWith("EndToEndTest") || l.startsWith("AttackAndChurnTest"))
                .forEach(System.err::println);
        if (run.code() == Guest.NOT_STARTED && !"true".equals(System.getenv("CI"))) {
            Assumptions.abort("the guest kernel did not start (CI=true fails here):\n" + run.report());
        }
        if (run.code() != 0) fail("GRE scenarios in the guest kernel failed:\n" + run.report());
    }

    /**
     * Starts the guest when a test plan containing {@link GuestGreTest} starts, if it will be needed
     * (root, the guest's tools, no GRE in this kernel); otherwise does nothing and the test decides.
     * {@code -Dmeshc.guest.early=false} turns it off.
     */
    public static final class EarlyStart implements TestExecutionListener {
        @Override
        public void testPlanExecutionStarted(TestPlan plan) {
            if ("false".equals(System.getProperty("meshc.guest.early"))) return;
            boolean planned = plan.getRoots().stream().flatMap(r -> plan.getDescendants(r).stream())
                    .anyMatch(id -> id.getSource().filter(s -> s instanceof ClassSource c && c.getClassName().equals(GuestGreTest.class.getName())).isPresent());
            if (!planned || !Guest.missing().isEmpty() || !Kernel.missing().isEmpty() || Kernel.hasLinkKind("gre")) return;
            System.err.println("GuestGreTest: starting the guest kernel now, beside the rest of the suite");
            guest("the test plan's start", true);
        }
    }
}
