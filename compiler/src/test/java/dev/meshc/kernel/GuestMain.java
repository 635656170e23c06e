package dev.meshc.kernel;

import static org.junit.platform.engine.discovery.DiscoverySelectors.selectClass;

import java.io.PrintWriter;
import java.util.Arrays;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.platform.engine.TestExecutionResult;
import org.junit.platform.launcher.EngineFilter;
import org.junit.platform.launcher.LauncherDiscoveryRequest;
import org.junit.platform.launcher.TestExecutionListener;
import org.junit.platform.launcher.TestIdentifier;
import org.junit.platform.launcher.core.LauncherDiscoveryRequestBuilder;
import org.junit.platform.launcher.core.LauncherFactory;
import org.junit.platform.launcher.listeners.SummaryGeneratingListener;

/**
 * Runs JUnit test classes in one JVM and exits 0 only if tests ran and none failed or was aborted:
 * what {@link Guest} starts inside the guest kernel, where a skipped kernel test would prove nothing.
 * Arguments: fully qualified class names.
 */
public final class GuestMain {
    private GuestMain() {
    }

    public static void main(String[] args) {
        long t0 = System.nanoTime();
        LauncherDiscoveryRequest request = LauncherDiscoveryRequestBuilder.request()
                .selectors(Arrays.stream(args).map(c -> selectClass(c)).toList())
                // Jupiter only: jqwik's engine writes its database into the (read-only) working directory
                .filters(EngineFilter.includeEngines("junit-jupiter")).build();
        SummaryGeneratingListener summary = new SummaryGeneratingListener();
        AtomicInteger problems = new AtomicInteger();
        TestExecutionListener progress = new TestExecutionListener() {
            @Override
            public void executionStarted(TestIdentifier id) {
                if (id.isTest()) System.out.println("GUEST-TEST START " + id.getDisplayName() + " (" + id.getUniqueId() + ")");
                if (id.isTest()) dev.meshc.TestSupport.timed("TEST " + id.getDisplayName(), System.nanoTime());
            }

            @Override
            public void executionFinished(TestIdentifier id, TestExecutionResult result) {
                if (result.getStatus() != TestExecutionResult.Status.SUCCESSFUL) problems.incrementAndGet();
                if (!id.isTest() && result.getStatus() == TestExecutionResult.Status.SUCCESSFUL) return;
                System.out.printf(Locale.ROOT, "GUEST-TEST %s %s +%.1fs%n", result.getStatus(), id.getDisplayName(), (System.nanoTime() - t0) / 1e9);
                result.getThrowable().ifPresent(t -> t.printStackTrace(System.out));
                System.out.flush();
            }

            @Override
            public void executionSkipped(TestIdentifier id, String reason) {
                problems.incrementAndGet();
                System.out.println("GUEST-TEST SKIPPED " + id.getDisplayName() + ": " + reason);
            }
        };
        LauncherFactory.create().execute(request, summary, progress);
        var s = summary.getSummary();
        s.printTo(new PrintWriter(System.out));
        boolean ok = s.getTestsSucceededCount() > 0 && s.getTotalFailureCount() == 0 && s.getTestsAbortedCount() == 0
                && s.getTestsSkippedCount() == 0 && problems.get() == 0;
        System.out.printf(Locale.ROOT, "GUEST-RESULT %s: %d tests succeeded, %d failed, %d aborted, %d skipped in %.1f s%n", ok ? "PASS" : "FAIL",
                s.getTestsSucceededCount(), s.getTotalFailureCount(), s.getTestsAbortedCount(), s.getTestsSkippedCount(), (System.nanoTime() - t0) / 1e9);
        System.out.flush();
        System.exit(ok ? 0 : 1);
    }
}
