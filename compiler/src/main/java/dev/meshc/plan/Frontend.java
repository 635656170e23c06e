package dev.meshc.plan;

import dev.meshc.diag.Code;
import dev.meshc.diag.Diagnostic;
import dev.meshc.diag.Diagnostics;
import dev.meshc.diag.Timings;
import dev.meshc.load.InputLimits;
import dev.meshc.load.InventorySchema;
import dev.meshc.load.SourceTree;
import dev.meshc.load.YamlReader;
import dev.meshc.model.AddressLayout;
import dev.meshc.model.Inventory;
import dev.meshc.model.InventoryReader;
import dev.meshc.validate.InventoryValidator;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.Optional;

/**
 * load → schema → model → validate → plan, stopping after the first stage that reports errors.
 * Everything up to the plan is pure: bytes in, a plan or diagnostics out, nothing written. On two or
 * more cores the schema check runs beside the later stages, which are discarded if it fails.
 */
public final class Frontend {

    /** The outcome; {@code plan} is present exactly when there are no errors. */
    public record Result(Optional<SourceTree> tree, Optional<Inventory> inventory, Optional<Plan> plan,
                         Lock previousLock, List<Diagnostic> diagnostics) {

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
        if (tree.isEmpty()) return fail(tree, Optional.empty(), Lock.EMPTY, diags);
        // The schema is checked on another thread while this one reads the model, validates and plans,
        // speculatively: if the schema fails, all of that is thrown away (with whatever it threw), and
        // the user sees the schema's diagnostics, as if the stages had run one after the other.
        SourceTree st = tree.get();
        Diagnostics schemaDiags = new Diagnostics();
        CompletableFuture<Boolean> schema = CompletableFuture.supplyAsync(() -> InventorySchema.check(st, schemaDiags));
        Semantics sem;
        RuntimeException failure = null;
        try {
            sem = semantics(st, lock, lockDiags);
        } catch (RuntimeException e) {
            sem = null;
            failure = e;
        }
        boolean schemaOk = join(schema);
        diags.addAll(schemaDiags);
        Timings.mark("schema (rest of)");
        if (!schemaOk) return fail(tree, Optional.empty(), Lock.EMPTY, diags);
        if (failure != null) throw failure; // a schema-valid inventory must get through: a bug, reported as such
        diags.addAll(sem.diags());
        if (sem.plan() == null) return fail(tree, Optional.of(sem.inventory()), sem.previous(), diags);
        return new Result(tree, Optional.of(sem.inventory()), Optional.of(sem.plan()), sem.previous(), diags.sorted());
    }

    /** What follows the schema check: the model, its validation, the lock and the plan (null after errors). */
    private record Semantics(Inventory inventory, Lock previous, Plan plan, Diagnostics diags) {
    }

    private static Semantics semantics(SourceTree tree, CompletableFuture<Lock> lock, Diagnostics lockDiags) {
        Diagnostics diags = new Diagnostics();
        Inventory inv = InventoryReader.read(tree);
        Timings.mark("model");
        if (!InventoryValidator.validate(inv, diags)) return new Semantics(inv, Lock.EMPTY, null, diags);
        Timings.mark("validate");
        Lock previous = join(lock);
        diags.addAll(lockDiags);
        if (diags.hasErrors()) return new Semantics(inv, previous, null, diags);
        AddressLayout layout = new AddressLayout(inv.network().underlay(), inv.network().overlay());
        IndexAllocator.Result alloc = IndexAllocator.allocate(inv, previous, layout.capacity());
        for (String name : alloc.displaced()) {
            var e = previous.entries().get(name);
            diags.warning(Code.L502, inv.containers().get(name).spans().key(), "container '" + name + "' had index "
                    + e.index() + " on VM '" + e.vm() + "' in the lock, now pinned by another container; it gets index "
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
        return fail(Optional.empty(), Optional.empty(), Lock.EMPTY, diags);
    }

    public static Result run(String file, byte[] yaml, String lockFile, String lockText) {
        return run(file, yaml, lockFile, lockText, InputLimits.DEFAULT);
    }

    private static Result fail(Optional<SourceTree> tree, Optional<Inventory> inv, Lock lock, Diagnostics diags) {
        return new Result(tree, inv, Optional.empty(), lock, diags.sorted());
    }
}
