package dev.meshc.emit;

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
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ForkJoinPool;

/**
 * The whole output of a valid inventory. Hosts are independent, so they are rendered in parallel
 * and each artifact goes to a sink as soon as it exists: memory holds a few hosts' files, not the
 * fleet's (hundreds of megabytes at a thousand VMs). The manifest comes last, from the sizes and
 * hashes gathered on the way; bytes never depend on the order of work.
 */
public final class Compilation {
    /** Receives artifacts from several threads at once. */
    public interface Sink {
        void accept(Artifact artifact) throws IOException;

        /** With the artifact's SHA-256 (hex), computed once for the manifest: sinks that can use it override this. */
        default void accept(Artifact artifact, String sha256) throws IOException {
            accept(artifact);
        }
    }

    private Compilation() {
    }

    /** Streams every artifact except the manifest to {@code sink}; returns the manifest. */
    public static Artifact stream(Frontend.Result result, Collection<String> hosts, Templates templates, String version, Sink sink)
            throws IOException {
        return stream(result, hosts, templates, version, sink, () -> { });
    }

    /** As above, calling {@code hostDone} (from any thread) after each host: progress for long compiles. */
    public static Artifact stream(Frontend.Result result, Collection<String> hosts, Templates templates, String version, Sink sink,
                                  Runnable hostDone) throws IOException {
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
        List<String> order = new ArrayList<>(hosts);
        ForkJoinPool pool = new ForkJoinPool(Math.max(1, Runtime.getRuntime().availableProcessors()));
        try {
            pool.submit(() -> order.parallelStream().forEach(vm -> {
                for (Artifact a : Renderers.renderHost(plan, vm, templates)) {
                    try {
                        recording.accept(a);
                    } catch (IOException e) {
                        throw new UncheckedIOException(e);
                    }
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
        List<Manifest.Entry> sorted = new ArrayList<>(entries);
        sorted.sort((x, y) -> x.path().compareTo(y.path()));
        String lockText = LockFile.format(plan.lock());
        return Manifest.write(sorted, inventorySha.join(), Sha256.hex(lockText.getBytes(StandardCharsets.UTF_8)), version);
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
