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
 * The schema check runs beside the model, validation and plan; when it fails, they run again on what
 * the schema accepted. However the threads race, the user sees every problem of every stage that had
 * something to check, and is told when a stage had nothing left to check.
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
    void aSchemaErrorLeavesOutItsEntryAndTheLaterStagesCheckTheRestEvenWhenTheyThrowOnTheWhole() {
        // 'db' has no ':' endpoint: the schema rejects it (S203), and the model reader would fail on it.
        // The relationship is left out; the unknown VM (R403) and the malformed lock (L500) are still reported.
        Frontend.Result r = TestSupport.frontend("f.yml", BASE.formatted("db", "5432", "vm-x"), "not a lock line\n");
        assertFalse(r.ok());
        assertEquals(List.of("S203", "R403", "L500"), codes(r));
        assertTrue(r.inventory().isPresent());
        assertEquals(null, r.skipped(), "nothing was skipped");
    }

    @RepeatedTest(20)
    void aValidationErrorAndALockErrorInOneRun() {
        Frontend.Result r = TestSupport.frontend("f.yml", BASE.formatted("db:pg", "5432", "vm-x"), "not a lock line\n");
        assertEquals(List.of("R403", "L500"), codes(r));
        assertEquals(15, r.diagnostics().get(0).at().line()); // containers.app-1.vm
    }

    @Test
    void withoutAUsableAddressPlanTheSemanticChecksAreSkippedAndTheResultSaysSo() {
        Frontend.Result r = TestSupport.frontend("f.yml", BASE.formatted("db:pg", "5432", "vm-x").replace("240.0.0.0/4", "240.0.0.0/40"), null);
        assertEquals(List.of("S203"), codes(r), "R403 needs the VMs checked against the network: not reported");
        assertTrue(r.skipped().contains("semantic checks did not run"), r.skipped());
        var cli = TestSupport.meshc("validate", TestSupport.root().resolve("compiler/src/test/resources/cases/syntax-tab-in-indentation.yml").toString());
        assertTrue(cli.err().contains("1 error; the schema and semantic checks did not run"), cli.err());
    }

    @Test
    void aDuplicateKeyKeepsTheFirstValueAndTheRestIsChecked() {
        String yaml = BASE.formatted("db:pg", "5432", "vm-x").replace("  db-1: {service: db, vm: vm-a}", "  db-1: {service: db, vm: vm-a}\n  db-1: {service: db, vm: vm-b}");
        Frontend.Result r = TestSupport.frontend("f.yml", yaml, null);
        assertEquals(List.of("R403", "Y101"), codes(r));
        assertEquals("vm-a", r.inventory().orElseThrow().containers().get("db-1").vm());
        assertFalse(r.ok());
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
