package dev.meshc.cli;

import dev.meshc.emit.Compilation;
import dev.meshc.plan.Frontend;
import dev.meshc.plan.ContainerPlan;
import dev.meshc.plan.Plan;
import dev.meshc.plan.VmPlan;
import dev.meshc.render.Artifact;
import dev.meshc.render.Renderers;
import dev.meshc.render.Templates;
import java.nio.file.Files;
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

    /**
     * Hosts compile's check keeps parsed at once (a host of a thousand-VM fleet parses to tens of megabytes): all of
     * the {@link SelfCheck#HOSTS} it checks, so that its second pass over them parses none again.
     */
    static final int KEEP = 24;

    /**
     * Hosts {@code meshc verify} keeps parsed at once. It goes host by host and a trace reads its source and then
     * the peers it enters, one after the other, so a few do; more only fill the heap and the collector's time
     * (measured at L: docs/performance.md, issue 19).
     */
    static final int VERIFY_KEEP = 4;

    /**
     * The same files as a network whose hosts are parsed when first needed, at most {@link #VERIFY_KEEP} at a time:
     * read from OUT's hosts/ directory, or rendered one host at a time in memory (never the whole fleet).
     */
    static Network lazy(Plan plan, Path out, Path templates) throws IOException {
        Map<Integer, String> containers = new java.util.HashMap<>(), underlays = new java.util.HashMap<>();
        for (ContainerPlan c : plan.containers().values()) containers.put(c.address(), c.vm());
        for (VmPlan v : plan.vms().values()) underlays.put(v.vm().underlay(), v.name());
        if (out == null) {
            Templates tpl = Main.templates(templates);
            return Network.lazy(plan.vms().keySet(), vm -> {
                Map<String, byte[]> files = new TreeMap<>();
                for (Artifact a : Renderers.renderHost(plan, vm, tpl)) files.put(a.path(), a.bytes());
                return files;
            }, containers, underlays, VERIFY_KEEP);
        }
        UsageError.unlessDirectory("--out", out, "does not exist");
        java.util.List<String> vms = new java.util.ArrayList<>();
        Path hosts = out.resolve("hosts");
        if (Files.isDirectory(hosts)) {
            try (var s = Files.list(hosts)) {
                for (Path p : (Iterable<Path>) s.sorted()::iterator) if (Files.isRegularFile(p.resolve("nftables/meshc.nft"))) vms.add(p.getFileName().toString());
            }
        }
        return Network.lazy(vms, vm -> read(out, vm), containers, underlays, VERIFY_KEEP);
    }

    /** One host's files under OUT, keyed as in the tree. */
    static Map<String, byte[]> read(Path out, String vm) throws IOException {
        Map<String, byte[]> files = new TreeMap<>();
        Path dir = out.resolve("hosts").resolve(vm);
        if (!Files.isDirectory(dir)) return files;
        try (var s = Files.walk(dir)) {
            for (Path p : (Iterable<Path>) s.filter(Files::isRegularFile).sorted()::iterator) {
                files.put(out.relativize(p).toString().replace('\\', '/'), Files.readAllBytes(p));
            }
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
