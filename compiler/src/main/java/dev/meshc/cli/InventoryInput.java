package dev.meshc.cli;

import dev.meshc.plan.Frontend;
import java.io.IOException;
import java.nio.file.Path;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** The inventory argument and its lock file, shared by every command that reads an inventory. */
final class InventoryInput {
    @Parameters(index = "0", paramLabel = "INVENTORY", description = "The inventory YAML file.")
    Path inventory;

    @Option(names = "--lock", paramLabel = "FILE", description = "Lock file (default: meshc.lock beside the inventory).")
    Path lock;

    Inputs inputs;

    /** The inventory and lock paths as resolved (the lock defaults to meshc.lock beside the inventory). */
    Inputs inputs() {
        if (inputs == null) inputs = new Inputs(inventory, lock);
        return inputs;
    }

    /** Runs the front end without printing anything (compile decides what to print). */
    Frontend.Result run() throws IOException {
        return inputs().run();
    }

    /** Runs the front end and prints its diagnostics; the result has a plan exactly when the inventory is valid. */
    Frontend.Result analyze(CommonOptions common) throws IOException {
        Frontend.Result r = run();
        Main.report(common, inputs, r.diagnostics(), r.skipped());
        return r;
    }
}
