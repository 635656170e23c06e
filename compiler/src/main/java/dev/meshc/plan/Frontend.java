package dev.meshc.plan;

import dev.meshc.diag.Code;
import dev.meshc.diag.Diagnostic;
import dev.meshc.diag.Diagnostics;
import dev.meshc.diag.Timings;
import dev.meshc.load.InputLimits;
import dev.meshc.load.InventorySchema;
import dev.meshc.load.SchemaRecovery;
import dev.meshc.load.SourceTree;
import dev.meshc.load.YamlReader;
import dev.meshc.model.AddressLayout;
import dev.meshc.model.Inventory;
import dev.meshc.model.InventoryReader;
import dev.meshc.validate.InventoryValidator;
import dev.meshc.validate.Unchecked;
import java.util.HashSet;
import java.util.Set;
import tools.jackson.databind.JsonNode;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.Optional;

/**
 * load → schema → model → validate → plan. Errors do not stop the checks while something is left to
 * check: after a duplicate key the first value is kept, after schema errors the entries that failed are
 * left out and the rest is validated, so one run reports every problem it can. It stops only where a
 * stage leaves nothing to go on (a file that does not parse, no usable address plan), and says so.
 * Everything up to the plan is pure: bytes in, a plan or diagnostics out, nothing written. On two or
 * more cores the schema check runs beside the later stages, which are discarded if it fails.
 */
public final class Frontend {

    /**
     * The outcome; {@code plan} is present exactly when there are no errors. {@code skipped} says which
     * later checks did not run because an earlier stage's errors left nothing for them to check (null when
     * every check ran); the diagnostics are then not the whole story, and the user is told so.
     */
    public record Result(Optional<SourceTree> tree, Optional<Inventory> inventory, Optional<Plan> plan,
                         Lock previousLock, List<Diagnostic> diagnostics, String skipped) {

        public boolean ok() {
            return plan.isPresent();
        }

        public boolean lockChanged() {
            return plan.isPresent() && !plan.get().lock().equals(previousLock);
        }
    }

    private Frontend() {
    }

    /**
     * @param lockFile the lock's path for diagnostics
     * @param lockText the lock's content, or null when there is no lock file yet
     */
    public static Result run(String file, byte[] yaml, String lockFile, String lockText, InputLimits limits) {
        Diagnostics diags = new Diagnostics();
        InventorySchema.prepareAsync();
        // The lock does not depend on the YAML: it is parsed on another thread while the YAML is.
        Diagnostics lockDiags = new Diagnostics();
        CompletableFuture<Lock> lock = lockText == null ? CompletableFuture.completedFuture(Lock.EMPTY)
                : CompletableFuture.supplyAsync(() -> LockFile.parse(lockFile, lockText, lockDiags));
        Timings.mark("read");
        Optional<SourceTree> tree = new YamlReader(limits).read(file, yaml, diags);
        Timings.mark("yaml");
        if (tree.isEmpty()) return fail(tree, Optional.empty(), Lock.EMPTY, diags, SKIPPED_AFTER_YAML);
        boolean yamlErrors = diags.hasErrors(); // a duplicate key: the first of the two was kept, and checking goes on
        // The schema is checked on another thread while this one reads the model, validates and plans,
        // speculatively: if the schema fails, all of that is thrown away (with whatever it threw) and done
        // again on the inventory without the entries the schema refused (SchemaRecovery).
        SourceTree st = tree.get();
        Diagnostics schemaDiags = new Diagnostics();
        CompletableFuture<List<String>> schema = CompletableFuture.supplyAsync(() -> InventorySchema.failures(st, schemaDiags));
        Semantics sem;
        RuntimeException failure = null;
        try {
            sem = semantics(st, lock, lockDiags, Unchecked.NONE);
        } catch (RuntimeException e) {
            sem = null;
            failure = e;
        }
        List<String> failing = join(schema);
        diags.addAll(schemaDiags);
        Timings.mark("schema (rest of)");
        if (!failing.isEmpty()) {
            sem = recover(st, failing, lock, lockDiags);
            if (sem == null) return fail(tree, Optional.empty(), Lock.EMPTY, diags, SKIPPED_AFTER_SCHEMA);
        } else if (failure != null) {
            throw failure; // a schema-valid inventory must get through: a bug, reported as such
        }
        diags.addAll(sem.diags());
        if (sem.plan() == null || yamlErrors) return fail(tree, Optional.of(sem.inventory()), sem.previous(), diags, null);
        return new Result(tree, Optional.of(sem.inventory()), Optional.of(sem.plan()), sem.previous(), diags.sorted(), null);
    }

    static final String SKIPPED_AFTER_YAML = "the schema and semantic checks did not run: they need a file that parses";
    static final String SKIPPED_AFTER_SCHEMA = "the semantic checks did not run: they need a valid 'network' and 'vms', 'services' and 'containers' maps";

    /**
     * The later stages on what the schema accepted, or null when that is too little to check anything
     * (a broken network plan). The rest is re-checked against the schema first: only a tree that conforms
     * may reach the model reader, which relies on it.
     */
    private static Semantics recover(SourceTree st, List<String> failing, CompletableFuture<Lock> lock, Diagnostics lockDiags) {
        Optional<SchemaRecovery.Pruned> pruned = SchemaRecovery.prune(st, failing);
        if (pruned.isEmpty()) return null;
        SourceTree rest = pruned.get().tree();
        if (!InventorySchema.failures(rest, new Diagnostics()).isEmpty()) return null;
        Set<String> services = new HashSet<>();
        for (String p : pruned.get().removed()) {
            if (!p.startsWith("/containers/")) continue;
            JsonNode service = st.root().at(p).path("service");
            if (service.isString()) services.add(service.asString());
        }
        try {
            Semantics sem = semantics(rest, lock, lockDiags, new Unchecked(pruned.get().removed(), services));
            return new Semantics(sem.inventory(), sem.previous(), null, sem.diags());
        } catch (RuntimeException e) {
            return null; // what could not be checked is not reported: the schema's errors stand alone
        }
    }

    /** What follows the schema check: the model, its validation, the lock and the plan (null after errors). */
    private record Semantics(Inventory inventory, Lock previous, Plan plan, Diagnostics diags) {
    }

    private static Semantics semantics(SourceTree tree, CompletableFuture<Lock> lock, Diagnostics lockDiags, Unchecked unchecked) {
        Diagnostics diags = new Diagnostics();
        Inventory inv = InventoryReader.read(tree);
        Timings.mark("model");
        boolean valid = InventoryValidator.validate(inv, diags, unchecked);
        Timings.mark("validate");
        Lock previous = join(lock);
        diags.addAll(lockDiags);
        if (!valid || diags.hasErrors() || !unchecked.removed().isEmpty()) return new Semantics(inv, previous, null, diags);
        AddressLayout layout = new AddressLayout(inv.network().underlay(), inv.network().overlay());
        IndexAllocator.Result alloc = IndexAllocator.allocate(inv, previous, layout.capacity());
        for (String name : alloc.displaced()) {
            var e = previous.entries().get(name);
            String taker = inv.containers().values().stream()
                    .filter(c -> c.vm().equals(e.vm()) && c.index() != null && c.index() == e.index())
                    .map(c -> "'" + c.name() + "'").findFirst().orElse("another container");
            diags.warning(Code.L502, inv.containers().get(name).spans().key(), "container '" + name + "' had index "
                    + e.index() + " on VM '" + e.vm() + "' in the lock, now pinned by container " + taker + "; it gets index "
                    + alloc.lock().entries().get(name).index() + " and a new address");
        }
        Plan plan = Planner.plan(inv, alloc.lock());
        Timings.mark("plan");
        return new Semantics(inv, previous, plan, diags);
    }

    private static <T> T join(CompletableFuture<T> f) {
        try {
            return f.join();
        } catch (CompletionException e) {
            if (e.getCause() instanceof RuntimeException r) throw r;
            if (e.getCause() instanceof Error err) throw err;
            throw e;
        }
    }

    /** The result for a file too large to read (checked from its size before reading it; -1: a stream that exceeded it). */
    public static Result tooLarge(String file, long size) {
        Diagnostics diags = new Diagnostics();
        YamlReader.checkSize(file, size, InputLimits.DEFAULT, diags);
        return fail(Optional.empty(), Optional.empty(), Lock.EMPTY, diags, null);
    }

    public static Result run(String file, byte[] yaml, String lockFile, String lockText) {
        return run(file, yaml, lockFile, lockText, InputLimits.DEFAULT);
    }

    private static Result fail(Optional<SourceTree> tree, Optional<Inventory> inv, Lock lock, Diagnostics diags, String skipped) {
        return new Result(tree, inv, Optional.empty(), lock, diags.sorted(), skipped);
    }
}
