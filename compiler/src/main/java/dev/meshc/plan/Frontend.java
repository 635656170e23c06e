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
import java.util.Optional;

/**
 * load → schema → model → validate → plan, stopping after the first stage that reports errors.
 * Everything up to the plan is pure: bytes in, a plan or diagnostics out, nothing written.
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
        Timings.mark("read");
        Optional<SourceTree> tree = new YamlReader(limits).read(file, yaml, diags);
        Timings.mark("yaml");
        if (tree.isEmpty()) return fail(tree, Optional.empty(), Lock.EMPTY, diags);
        // The schema check and the model read are independent: the model is read on this thread while
        // the schema is checked on another, and thrown away (with whatever it threw) if the schema fails.
        SourceTree st = tree.get();
        Diagnostics schemaDiags = new Diagnostics();
        java.util.concurrent.CompletableFuture<Boolean> schema =
                java.util.concurrent.CompletableFuture.supplyAsync(() -> InventorySchema.check(st, schemaDiags));
        Inventory inv = null;
        RuntimeException readFailure = null;
        try {
            inv = InventoryReader.read(st);
        } catch (RuntimeException e) {
            readFailure = e;
        }
        boolean schemaOk;
        try {
            schemaOk = schema.join();
        } catch (java.util.concurrent.CompletionException e) {
            if (e.getCause() instanceof RuntimeException r) throw r;
            if (e.getCause() instanceof Error err) throw err;
            throw e;
        }
        diags.addAll(schemaDiags);
        Timings.mark("schema+model");
        if (!schemaOk) return fail(tree, Optional.empty(), Lock.EMPTY, diags);
        if (readFailure != null) throw readFailure; // a schema-valid inventory must read: a bug, reported as such
        if (!InventoryValidator.validate(inv, diags)) return fail(tree, Optional.of(inv), Lock.EMPTY, diags);
        Timings.mark("validate");
        Lock previous = lockText == null ? Lock.EMPTY : LockFile.parse(lockFile, lockText, diags);
        if (diags.hasErrors()) return fail(tree, Optional.of(inv), previous, diags);
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
        return new Result(tree, Optional.of(inv), Optional.of(plan), previous, diags.sorted());
    }

    /** The result for a file too large to read (checked from its size, before reading it). */
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
