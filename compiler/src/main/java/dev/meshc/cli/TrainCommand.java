package dev.meshc.cli;

import dev.meshc.emit.Compilation;
import dev.meshc.plan.Frontend;
import dev.meshc.render.Artifact;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;

/**
 * What the launchers run, once per jar, to write the class-data archive that later runs start
 * from: a compile of the quickstart example (bundled in the jar) in memory, writing nothing.
 * A fixed training run, not whatever the user ran first: an archive written after a compile of a
 * 10-VM fleet made a 1,000-VM compile 35% slower, one written after this run does not
 * (docs/performance.md).
 */
@Command(name = "cds-train", hidden = true, description = "Exercise the compiler once, in memory (for the launchers' class-data archive).")
final class TrainCommand implements Callable<Integer> {
    static final String INVENTORY = "/meshc/train/inventory.yml";
    static final String LOCK = "/meshc/train/meshc.lock";

    @Override
    public Integer call() {
        Frontend.Result r = Frontend.run("quickstart.yml", resource(INVENTORY), "meshc.lock",
                new String(resource(LOCK), StandardCharsets.UTF_8));
        if (!r.ok()) throw new IllegalStateException("the bundled training inventory is invalid: " + r.diagnostics());
        List<Artifact> out = Compilation.render(r, r.plan().get().vms().keySet(), dev.meshc.render.Templates.bundled(), Version.get());
        return out.isEmpty() ? ExitCode.IO : ExitCode.OK;
    }

    private static byte[] resource(String name) {
        try (InputStream in = TrainCommand.class.getResourceAsStream(name)) {
            if (in == null) throw new IllegalStateException("missing from the build: " + name);
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
