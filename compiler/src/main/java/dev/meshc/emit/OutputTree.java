package dev.meshc.emit;

import dev.meshc.render.Artifact;
import dev.meshc.render.ManifestRenderer;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;

/**
 * Owns the output directory. A write is a small transaction:
 * <ol>
 * <li>take an exclusive lock on {@code OUT/.meshc-lock} (a second compile into the same OUT waits);
 * <li>finish or discard any write a crash interrupted ({@link #recover});
 * <li>write every changed file to a temp file beside its target and fsync it; unchanged files are
 *     not touched (their mtime is kept);
 * <li>commit: atomically rename a journal into place that lists the renames and deletions;
 * <li>apply the journal (renames, manifest last; deletions of files only the previous manifest
 *     listed), then remove it.
 * </ol>
 * A kill before the commit leaves the old tree (the temp files are discarded on the next run); a
 * kill after it is rolled forward on the next run. Either way OUT ends up exactly the old or the new
 * tree, never a mix. Only the journal is fsynced: the page cache outlives a killed process, and an
 * fsync per file would cost minutes at fleet scale (hundreds of thousands of files); after a power
 * loss the files of the last compile may need a recompile, which rewrites whatever differs.
 */
public final class OutputTree {
    static final String JOURNAL = ".meshc-journal";
    static final String LOCK = ".meshc-lock";
    static final String TEMP_SUFFIX = ".meshc-new";

    /** What a write did, for messages and tests. */
    public record Result(List<String> written, List<String> unchanged, List<String> removed) {
    }

    private final Path out;

    public OutputTree(Path out) {
        this.out = out;
    }

    public Result write(List<Artifact> artifacts) throws IOException {
        Files.createDirectories(out);
        // File locks are per process; threads of one JVM (tests, embedding tools) queue here first.
        synchronized (IN_PROCESS.computeIfAbsent(out.toRealPath(), k -> new Object())) {
            try (FileChannel ch = FileChannel.open(out.resolve(LOCK), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
                 FileLock ignored = ch.lock()) {
                recover();
                return writeLocked(artifacts);
            }
        }
    }

    private static final java.util.concurrent.ConcurrentMap<Path, Object> IN_PROCESS = new java.util.concurrent.ConcurrentHashMap<>();

    private Result writeLocked(List<Artifact> artifacts) throws IOException {
        Map<String, String> previous = PreviousManifest.read(out);
        List<String> written = new ArrayList<>(), unchanged = new ArrayList<>();
        Set<String> produced = new TreeSet<>();
        Artifact manifest = null;
        for (Artifact a : artifacts) {
            if (!isSafeRelative(a.path())) throw new IOException("refusing to write outside the output directory: " + a.path());
            produced.add(a.path());
            if (a.path().equals(ManifestRenderer.PATH)) {
                manifest = a;
                continue;
            }
            stage(a, written, unchanged);
        }
        if (manifest != null) stage(manifest, written, unchanged); // renamed last
        List<String> removed = new ArrayList<>();
        for (String p : previous.keySet()) {
            if (!produced.contains(p) && Files.exists(out.resolve(p))) removed.add(p);
        }
        if (written.isEmpty() && removed.isEmpty()) return new Result(written, unchanged, removed);

        StringBuilder journal = new StringBuilder();
        for (String p : written) journal.append("R ").append(p).append('\n');
        for (String p : removed) journal.append("D ").append(p).append('\n');
        Path tmp = out.resolve(JOURNAL + TEMP_SUFFIX);
        writeDurably(tmp, journal.toString().getBytes(StandardCharsets.UTF_8));
        move(tmp, out.resolve(JOURNAL)); // the commit point
        fsyncDir(out);
        apply(journal.toString());
        return new Result(written, unchanged, removed);
    }

    private void stage(Artifact a, List<String> written, List<String> unchanged) throws IOException {
        Path target = out.resolve(a.path());
        if (Files.isRegularFile(target) && Files.size(target) == a.bytes().length
                && Arrays.equals(Files.readAllBytes(target), a.bytes())) {
            unchanged.add(a.path());
            return;
        }
        Files.createDirectories(target.getParent());
        Files.write(temp(target), a.bytes());
        written.add(a.path());
    }

    /** Completes a committed write or discards an uncommitted one. Safe to call at any time under the lock. */
    public void recover() throws IOException {
        Path journal = out.resolve(JOURNAL);
        if (Files.exists(journal)) {
            apply(Files.readString(journal, StandardCharsets.UTF_8));
        }
        // Temp files of a write that never committed.
        try (Stream<Path> s = Files.walk(out)) {
            for (Path p : (Iterable<Path>) s::iterator) {
                if (p.getFileName().toString().endsWith(TEMP_SUFFIX) && Files.isRegularFile(p)) Files.deleteIfExists(p);
            }
        }
    }

    private void apply(String journal) throws IOException {
        for (String line : journal.split("\n")) {
            if (line.length() < 3) continue;
            String p = line.substring(2);
            if (!isSafeRelative(p)) continue;
            Path target = out.resolve(p);
            if (line.charAt(0) == 'R') {
                Path t = temp(target);
                if (Files.exists(t)) move(t, target);
            } else if (line.charAt(0) == 'D') {
                Files.deleteIfExists(target);
                pruneEmptyParents(target.getParent());
            }
        }
        fsyncDir(out);
        Files.deleteIfExists(out.resolve(JOURNAL));
    }

    private void pruneEmptyParents(Path dir) throws IOException {
        while (dir != null && dir.startsWith(out) && !dir.equals(out)) {
            if (!Files.isDirectory(dir)) { // already pruned by the run a crash interrupted: replay is idempotent
                dir = dir.getParent();
                continue;
            }
            try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir)) {
                if (ds.iterator().hasNext()) return;
            }
            Files.delete(dir);
            dir = dir.getParent();
        }
    }

    private static Path temp(Path target) {
        return target.resolveSibling("." + target.getFileName() + TEMP_SUFFIX);
    }

    private static void writeDurably(Path p, byte[] bytes) throws IOException {
        try (FileChannel ch = FileChannel.open(p, StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
            ch.write(java.nio.ByteBuffer.wrap(bytes));
            ch.force(true);
        }
    }

    private static void move(Path from, Path to) throws IOException {
        try {
            Files.move(from, to, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
            throw new IOException("the file system of " + to.getParent() + " cannot rename atomically", e);
        }
    }

    private static void fsyncDir(Path dir) {
        try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
            ch.force(true);
        } catch (IOException e) {
            // Some file systems cannot open directories for sync; rename is still atomic there.
        }
    }

    /** A relative path with no '..', no absolute part, no empty or hidden-temp segments. */
    public static boolean isSafeRelative(String p) {
        if (p.isEmpty() || p.startsWith("/") || p.contains("\\") || p.contains("\0")) return false;
        for (String seg : p.split("/", -1)) {
            if (seg.isEmpty() || seg.equals(".") || seg.equals("..") || seg.endsWith(TEMP_SUFFIX)) return false;
        }
        return true;
    }
}
