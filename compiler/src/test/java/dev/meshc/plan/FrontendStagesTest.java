package dev.meshc.plan;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.meshc.TestSupport;
import dev.meshc.diag.Diagnostic;
import java.util.List;
import org.junit.jupiter.api.RepeatedTest;
import org.junit.jupiter.api.Test;

/**
 * The schema check runs beside the model, validation and plan, which are discarded when it fails:
 * the user must see what the stages one after the other would have shown, however the threads race.
 */
class FrontendStagesTest {
    private static final String BASE = """
            version: 1
            network:
              underlay: 192.168.0.0/16
              overlay: 240.0.0.0/4
            vms:
              vm-a: {underlay: 192.168.16.32}
            services:
              app:
                relationships:
                  database: %s
              db:
                endpoints:
                  pg: {port: %s}
            containers:
              app-1: {service: app, vm: %s}
              db-1: {service: db, vm: vm-a}
            """;

    private static List<String> codes(Frontend.Result r) {
        return r.diagnostics().stream().map(d -> d.code().name()).toList();
    }

    @RepeatedTest(20)
    void aSchemaErrorHidesTheLaterStagesEvenWhenTheyThrow() {
        // 'db' has no ':' endpoint: the schema rejects it (S203), and the model reader would fail on it.
        // The unknown VM (R403) and the malformed lock (L500) belong to later stages: not reported.
        Frontend.Result r = TestSupport.frontend("f.yml", BASE.formatted("db", "5432", "vm-x"), "not a lock line\n");
        assertFalse(r.ok());
        assertEquals(List.of("S203"), codes(r));
        assertTrue(r.inventory().isEmpty());
    }

    @RepeatedTest(20)
    void aValidationErrorHidesTheLockErrors() {
        Frontend.Result r = TestSupport.frontend("f.yml", BASE.formatted("db:pg", "5432", "vm-x"), "not a lock line\n");
        assertEquals(List.of("R403"), codes(r));
        assertEquals(15, r.diagnostics().get(0).at().line()); // containers.app-1.vm
    }

    @Test
    void lockErrorsAreReportedForAValidInventory() {
        Frontend.Result r = TestSupport.frontend("f.yml", BASE.formatted("db:pg", "5432", "vm-a"), "# header\nnot a lock line\n");
        assertEquals(List.of("L500"), codes(r));
        assertEquals(new dev.meshc.diag.SourceSpan("f.yml.lock", 2, 1), r.diagnostics().get(0).at());
    }

    @Test
    void aValidInventoryPlans() {
        Frontend.Result r = TestSupport.frontend("f.yml", BASE.formatted("db:pg", "5432", "vm-a"), null);
        assertTrue(r.ok());
        assertEquals(List.<Diagnostic>of(), r.diagnostics());
        assertEquals(2, r.plan().orElseThrow().lock().entries().size());
    }
}
