package dev.meshc.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import dev.meshc.TestSupport;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * The kernel suite's scenarios over GRE with real packets. This machine's kernel has no ip_gre, so
 * they run in a guest kernel that has it ({@link Guest}); a kernel with GRE runs them directly in a
 * second JVM. Either way each class below runs with {@code MESHC_E2E_ENCAP=gre}, in one JVM, and
 * every test in it must pass (none skipped).
 */
@Tag("kernel")
class GuestGreTest {
    /** The kernel test classes run over GRE. Another scenario class joins with one line here. */
    static final List<Class<?>> GRE_SCENARIOS = List.of(
            EndToEndTest.class);

    /** Modules the GRE scenarios load in the guest (the rest are loaded on demand through the host's modprobe). */
    static final List<String> GRE_MODULES = List.of("ip_gre", "veth", "bridge", "nf_tables", "nft_fib_ipv4", "nf_nat", "xt_statistic");

    /** The guest's time limit; the whole run is measured and printed. */
    static final int GUEST_TIMEOUT_SECONDS = 1500;

    @Test
    void greScenariosPassOnAKernelWithGre() {
        Kernel.require();
        List<String> classes = GRE_SCENARIOS.stream().map(Class::getName).toList();
        Map<String, String> env = Map.of("CI", "true", "MESHC_E2E_ENCAP", "gre");
        if (Kernel.hasLinkKind("gre")) {
            List<String> cmd = new ArrayList<>(List.of(Guest.javaBinary(), "-Dmeshc.root=" + TestSupport.root(), "-cp", Guest.testClasspath(),
                    GuestMain.class.getName()));
            cmd.addAll(classes);
            ProcessBuilder pb = new ProcessBuilder(cmd).inheritIO();
            pb.environment().putAll(env);
            try {
                assertEquals(0, pb.start().waitFor(), "GRE scenarios on this kernel (output above)");
            } catch (Exception e) {
                fail(e);
            }
            return;
        }
        Guest.require();
        Guest.Run run = Guest.junit(classes, env, GRE_MODULES, TestSupport.root().resolve("compiler/target/guest/gre"), GUEST_TIMEOUT_SECONDS);
        System.err.println("GuestGreTest: " + Math.round(run.seconds()) + " s in all\n" + run.harness().strip());
        run.log().lines().filter(l -> l.startsWith("GUEST-") || l.startsWith("EndToEndTest")).forEach(System.err::println);
        if (run.code() == Guest.NOT_STARTED && !"true".equals(System.getenv("CI"))) {
            Assumptions.abort("the guest kernel did not start (CI=true fails here):\n" + run.report());
        }
        if (run.code() != 0) fail("GRE scenarios in the guest kernel failed:\n" + run.report());
    }
}
