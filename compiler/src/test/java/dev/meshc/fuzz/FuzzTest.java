package dev.meshc.fuzz;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.meshc.diag.Diagnostic;
import dev.meshc.emit.Compilation;
import dev.meshc.plan.Frontend;
import dev.meshc.render.Templates;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.atomic.AtomicLong;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.Tag;
import net.jqwik.api.lifecycle.AfterContainer;

/**
 * Random valid inventories must validate and render; mutants of them must either validate (and
 * render) or get at least one error diagnostic — never an exception, never "no errors but no plan".
 * The quick properties run with every build; {@link #fuzzOneHundredThousandMutants} runs with
 * {@code mvn -B verify -Pfuzz} (fixed seed, so a failure reproduces).
 */
class FuzzTest {
    static final Templates TEMPLATES = Templates.bundled();
    static final AtomicLong VALID = new AtomicLong(), REJECTED = new AtomicLong();

    @Provide
    Arbitrary<Long> seeds() {
        return Arbitraries.longs();
    }

    static void check(String label, byte[] bytes) {
        Frontend.Result r;
        try {
            r = Frontend.run(label, bytes, label + ".lock", null);
        } catch (RuntimeException | StackOverflowError e) {
            throw new AssertionError("front end threw on " + label + ":\n" + new String(bytes, StandardCharsets.UTF_8), e);
        }
        boolean errors = r.diagnostics().stream().anyMatch(Diagnostic::isError);
        assertTrue(r.ok() != errors, () -> label + ": ok=" + r.ok() + " but diagnostics=" + r.diagnostics());
        for (Diagnostic d : r.diagnostics()) assertFalse(d.message().isBlank(), label);
        if (r.ok()) {
            try {
                Compilation.render(r, r.plan().get().vms().keySet(), TEMPLATES, "fuzz");
            } catch (RuntimeException e) {
                throw new AssertionError("rendering threw on " + label + ":\n" + new String(bytes, StandardCharsets.UTF_8), e);
            }
            VALID.incrementAndGet();
        } else {
            REJECTED.incrementAndGet();
        }
    }

    @Property(tries = 500, seed = "7")
    void randomInventoriesAreValid(@ForAll("seeds") long seed) {
        String yaml = InventoryGenerator.generate(seed);
        Frontend.Result r = Frontend.run("gen-" + seed, yaml.getBytes(StandardCharsets.UTF_8), "lock", null);
        assertTrue(r.ok(), () -> "generator seed " + seed + " gave an invalid inventory: " + r.diagnostics() + "\n" + yaml);
        Compilation.render(r, r.plan().get().vms().keySet(), TEMPLATES, "fuzz");
    }

    @Property(tries = 3000, seed = "11")
    void mutantsValidateOrGetDiagnostics(@ForAll("seeds") long seed) {
        check("mutant-" + seed, Mutator.mutate(InventoryGenerator.generate(seed), seed));
    }

    @Property(tries = 100_000, seed = "20261124")
    @Tag("fuzz")
    void fuzzOneHundredThousandMutants(@ForAll("seeds") long seed) {
        check("mutant-" + seed, Mutator.mutate(InventoryGenerator.generate(seed), seed));
    }

    @AfterContainer
    static void report() {
        System.err.println("FuzzTest: " + VALID.get() + " valid, " + REJECTED.get() + " rejected with diagnostics, 0 exceptions");
    }
}
