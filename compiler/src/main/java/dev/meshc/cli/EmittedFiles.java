package dev.meshc.cli;

import dev.meshc.emit.Compilation;
import dev.meshc.plan.Frontend;
import dev.meshc.render.Artifact;
import dev.meshc.trace.Network;
import dev.meshc.trace.TraceError;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;

/** The files trace and verify evaluate: an output tree on disk, or the inventory compiled in memory. */
final class EmittedFiles {
    private EmittedFiles() {
    }

    static Map<String, byte[]> compiled(Frontend.Result r, Path templates) throws IOException {
        Map<String, byte[]> files = new TreeMap<>();
        for (Artifact a : Compilation.render(r, r.plan().orElseThrow().vms().keySet(), Main.templates(templates), Version.get())) {
            files.put(a.path(), a.bytes());
        }
        return files;
    }

    /** Null (after printing why) when the files are not meshc's. */
    static Network network(Frontend.Result r, Path out, CommonOptions common) throws IOException {
        try {
            if (out != null) {
                UsageError.unlessDirectory("--out", out, "does not exist");
                return Network.read(out);
            }
            return Network.of(compiled(r, null));
        } catch (TraceError e) {
            Main.err().println("meshc: cannot evaluate " + (out != null ? out + "/" : "the compiled files: ") + e.getMessage());
            return null;
        }
    }
}
