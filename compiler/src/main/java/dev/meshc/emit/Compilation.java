package dev.meshc.emit;

import dev.meshc.diag.Timings;
import dev.meshc.model.Sha256;
import dev.meshc.plan.Frontend;
import dev.meshc.plan.LockFile;
import dev.meshc.plan.Plan;
import dev.meshc.render.Artifact;
import dev.meshc.render.Renderers;
import dev.meshc.render.Templates;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ForkJoinPool;

/**
 * The whole output of a valid inventory. Hosts are independent, so they are rendered in parallel
 * and each artifact goes to a sink as soon as it exists: memory holds a few hosts' files, not the
 * fleet's (hundreds of megabytes at a thousand VMs). The manifest comes last, from the sizes and
 * hashes gathered on the way; bytes never depend on the order of work.
 * <p>
 * Incrementally: given what the previous full compile left ({@link Previous}), a host whose input
 * digest ({@link HostInputs}) is unchanged is not rendered; its files and manifest rows are carried
 * over. The fleet-wide files are always rendered (one small file).
 */
public final class Compilation {
    /** Receives artifacts from several threads at once. */
    public interface Sink {
        void accept(Artifact artifact) throws IOException;

        /** With the artifact's SHA-256 (hex), computed once for the manifest: sinks that can use it override this. */
        default void accept(Artifact artifact, String sha256) throws IOException {
            accept(artifact);
        }

        /** A host's files kept from the previous output as they are (it was not rendered); only sinks given a {@link Previous}. */
        default void carry(String host, int files) throws IOException {
            throw new UnsupportedOperationException("this sink cannot keep files of a previous output");
        }
    }

    /**
     * The manifest; the host state to keep beside it (null when this compile cannot vouch for every host), without a
     * fingerprint of its inputs (the caller knows the input bytes); and the hosts rendered (the others were carried).
     */
    public record Output(Artifact manifest, HostState hostState, java.util.Set<String> rendered) {
    }

    private Compilation() {
    }

    /** Streams every artifact except the manifest to {@code sink}; returns the manifest. */
    public static Artifact stream(Frontend.Result result, Collection<String> hosts, Templates templates, String version, Sink sink)
            throws IOException {
        return stream(result, hosts, templates, version, sink, () -> { }, Previous.NONE, null).manifest();
    }

    /**
     * As above, calling {@code hostDone} (from any thread) after each host: progress for long compiles.
     *
     * @param previous what the previous full compile left; hosts whose digest is unchanged are carried, not rendered
     * @param context  what the renderers are ({@link #bundledContext}), or null when the digests cannot be trusted
     *                 (custom templates): then every host is rendered and no host state is returned
     */
    public static Output stream(Frontend.Result result, Collection<String> hosts, Templates templates, String version, Sink sink,
                                Runnable hostDone, Previous previous, String context) throws IOException {
        Plan plan = result.plan().orElseThrow();
        // The inventory's canonical hash (for the manifest) walks the whole tree: done beside the rendering.
        java.util.concurrent.CompletableFuture<String> inventorySha = java.util.concurrent.CompletableFuture.supplyAsync(
                () -> Sha256.hex(CanonicalJson.of(result.tree().orElseThrow().root())));
        List<Manifest.Entry> entries = Collections.synchronizedList(new ArrayList<>());
        Sink recording = a -> {
            String sha = Sha256.hex(a.bytes());
            entries.add(new Manifest.Entry(a.path(), sha, a.bytes().length));
            sink.accept(a, sha);
        };
        for (Artifact a : Renderers.renderFleet(plan, templates)) recording.accept(a);
        boolean everyHost = hosts.size() == plan.vms().size();
        Map<String, String> digests = new ConcurrentHashMap<>();
        java.util.Set<String> rendered = ConcurrentHashMap.newKeySet();
        java.util.Set<String> carried = ConcurrentHashMap.newKeySet();
        java.util.concurrent.atomic.AtomicLong carriedRows = new java.util.concurrent.atomic.AtomicLong();
        List<String> order = new ArrayList<>(hosts);
        HostInputs inputs = context == null ? null : new HostInputs(plan, context);
        ForkJoinPool pool = new ForkJoinPool(Math.max(1, Runtime.getRuntime().availableProcessors()));
        try {
            pool.submit(() -> order.parallelStream().forEach(vm -> {
                try {
                    String digest = inputs == null ? null : inputs.of(vm);
                    if (digest != null) digests.put(vm, digest);
                    if (previous.carries(vm, digest)) {
                        int rows = previous.rowCount(vm);
                        sink.carry(vm, rows);
                        carried.add(vm);
                        carriedRows.addAndGet(rows);
                    } else {
                        for (Artifact a : Renderers.renderHost(plan, vm, templates)) recording.accept(a);
                        rendered.add(vm);
                    }
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
                hostDone.run();
            })).get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted", e);
        } catch (ExecutionException e) {
            Throwable c = e.getCause();
            if (c instanceof UncheckedIOException u) throw u.getCause();
            if (c instanceof RuntimeException r) throw r;
            if (c instanceof Error err) throw err;
            throw new IOException(c);
        } finally {
            pool.shutdown();
        }
        Timings.mark("render (" + rendered.size() + " hosts)");
        List<Manifest.Entry> sorted = new ArrayList<>(entries);
        sorted.sort((x, y) -> x.path().compareTo(y.path()));
        String lockText = LockFile.format(plan.lock());
        Artifact manifest = Manifest.write(sorted, List.copyOf(carried), previous, inventorySha.join(),
                Sha256.hex(lockText.getBytes(StandardCharsets.UTF_8)), version);
        Timings.mark("manifest");
        HostState state = context != null && everyHost ? HostState.of(digests, manifest.bytes(), sorted.size() + carriedRows.get()) : null;
        return new Output(manifest, state, java.util.Set.copyOf(rendered));
    }

    /**
     * What the renderers are, for host digests: meshc's version and the bytes of its own code and
     * bundled templates (a rebuilt snapshot with the same version renders differently too).
     */
    public static String bundledContext(String version) {
        return "meshc " + version + " " + CODE.get();
    }

    private static final java.util.function.Supplier<String> CODE = new java.util.function.Supplier<>() {
        private volatile String value;

        @Override
        public String get() {
            if (value == null) value = codeDigest();
            return value;
        }
    };

    /** The SHA-256 of meshc's jar, or of every file under its classes directory (tests, a development build). */
    private static String codeDigest() {
        try {
            java.nio.file.Path src = java.nio.file.Path.of(Compilation.class.getProtectionDomain().getCodeSource().getLocation().toURI());
            if (java.nio.file.Files.isRegularFile(src)) return Sha256.hex(java.nio.file.Files.readAllBytes(src));
            HostInputs.Feed f = new HostInputs.Feed();
            try (var s = java.nio.file.Files.walk(src)) {
                for (java.nio.file.Path p : s.filter(java.nio.file.Files::isRegularFile).sorted().toList()) {
                    f.value(src.relativize(p).toString());
                    f.value(Sha256.hex(java.nio.file.Files.readAllBytes(p)));
                }
            }
            return f.hex();
        } catch (IOException | java.net.URISyntaxException | RuntimeException e) {
            return "unknown " + System.nanoTime(); // digests that never match: every host is rendered
        }
    }

    /** The whole output in memory, manifest included, sorted by path (tests, small inventories). */
    public static List<Artifact> render(Frontend.Result result, Collection<String> hosts, Templates templates, String version) {
        List<Artifact> out = Collections.synchronizedList(new ArrayList<>());
        try {
            out.add(stream(result, hosts, templates, version, out::add));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        List<Artifact> sorted = new ArrayList<>(out);
        sorted.sort(null);
        return List.copyOf(sorted);
    }
}
