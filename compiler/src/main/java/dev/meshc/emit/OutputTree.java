package dev.meshc.emit;

import dev.meshc.render.Artifact;
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
import java.util.stream.Stream;

/**
 * Owns the output directory. A write is a small transaction:
 * <ol>
 * <li>take an exclusive lock on {@code OUT/.meshc-lock} (a second compile into the same OUT waits);
 * <li>finish or discard any write a crash interrupted ({@link #recover});
 * <li>stage: into an existing tree, write every changed file to a temp file beside its target
 *     (unchanged files are not touched, their mtime is kept), with a marker saying temp files may
 *     exist; into an empty OUT, write the whole tree under {@code OUT/.meshc-stage/} instead, so the
 *     commit is a few directory renames rather than one rename per file;
 * <li>commit: atomically rename a journal into place that lists the renames and deletions;
 * <li>apply the journal (renames, manifest last; deletions of files only the previous manifest
 *     listed), then remove it.
 * </ol>
 * A kill before the commit leaves the old tree (the temp files or stage directory are discarded on
 * the next run); a kill after it is rolled forward on the next run. Either way OUT ends up exactly
 * the old or the new tree, never a mix. Only the journal is fsynced: the page cache outlives a killed
 * process, and an fsync per file would cost minutes at fleet scale (hundreds of thousands of files);
 * after a power loss the files of the last compile may need a recompile, which rewrites whatever
 * differs.
 */
public final class OutputTree {
    static final String JOURNAL = ".meshc-journal";
    static final String LOCK = ".meshc-lock";
    static final String TEMP_SUFFIX = ".meshc-new";
    /** The whole new tree, when OUT held nothing of meshc's: committed by renaming its top-level entries. */
    static final String STAGE = ".meshc-stage";
    /** Present while temp files may exist beside their targets: recovery walks the tree only then. */
    static final String DIRTY = ".meshc-dirty";
    /** The top-level directories every artifact lives in (the manifest sits beside them): the render registry's. */
    static final Set<String> OWN_SUBTREES = dev.meshc.render.Renderers.DIRECTORIES;

    /** What a write did, for messages and tests. */
    public record Result(List<String> written, List<String> unchanged, List<String> removed, long carried) {
        public Result(List<String> written, List<String> unchanged, List<String> removed) {
            this(written, unchanged, removed, 0);
        }

        /** Files left as they were: compared or trusted by their stat ({@link #unchanged}), or carried with their host. */
        public long unchangedCount() {
            return unchanged.size() + carried;
        }
    }

    private final Path out;

    public OutputTree(Path out) {
        this.out = out;
    }

    /**
     * Takes the directory's lock (waiting for another compile to finish), completes or discards an
     * interrupted write, and returns a transaction to stage files into.
     */
    public Transaction begin() throws IOException {
        checkOwnership(out);
        Files.createDirectories(out);
        Object monitor = IN_PROCESS.computeIfAbsent(out.toRealPath(), k -> new java.util.concurrent.locks.ReentrantLock());
        java.util.concurrent.locks.ReentrantLock inProcess = (java.util.concurrent.locks.ReentrantLock) monitor;
        inProcess.lock(); // file locks are per process; threads of one JVM queue here first
        FileChannel ch = null;
        try {
            ch = FileChannel.open(out.resolve(LOCK), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
            FileLock lock = ch.lock();
            recover();
            knownDirectories.clear(); // recovery and earlier writes may have removed directories
            Path m = out.resolve(Manifest.PATH);
            Previous previous = Files.isRegularFile(m, java.nio.file.LinkOption.NOFOLLOW_LINKS) ? Previous.of(out, Files.readAllBytes(m)) : Previous.NONE;
            manifestTime = previous.isEmpty() ? null : Files.getLastModifiedTime(m);
            return new Transaction(ch, lock, inProcess, previous, previous.isEmpty() && holdsNothingButTheLock());
        } catch (IOException | RuntimeException e) {
            if (ch != null) ch.close();
            inProcess.unlock();
            throw e;
        }
    }

    /**
     * Refuses an output directory that is not meshc's, before anything is written into it: OUT must be
     * missing, empty apart from dot-files (and a mount point's {@code lost+found}), hold a manifest meshc
     * wrote ({@code "generator": "meshc"}), or hold the journal or dirty mark of a write in progress or a kill interrupted. Anything else ({@code -o /}, {@code -o .}
     * in a repository, a symlink to {@code /etc}, a web app's {@code manifest.json}) would get meshc's
     * {@code hosts/}, {@code ansible/} and {@code manifest.json} mixed into files it must never touch.
     */
    public static void checkOwnership(Path out) throws IOException {
        if (!Files.exists(out)) {
            if (Files.isSymbolicLink(out)) throw new NotOwned(out + " is a dangling symbolic link");
            return;
        }
        if (!Files.isDirectory(out)) throw new NotOwned(out + " exists and is not a directory");
        // Another compile may commit into OUT meanwhile (this check runs before the lock): its manifest appears
        // whole, by a rename. So a manifest is judged once it is seen to exist, and a directory that looks foreign
        // is looked at again for a manifest or journal that a commit put there while it was listed.
        // A write in progress marks OUT before it puts anything there: a first write into OUT that already held
        // dot-files stages beside the targets and writes DIRTY first; a commit writes its journal first.
        if (writing(out)) return;
        if (Files.exists(out.resolve(Manifest.PATH), java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
            if (Manifest.isMeshc(out) || writing(out)) return;
            throw new NotOwned(out + " holds a " + Manifest.PATH + " that meshc did not write; choose an empty"
                    + " directory or one meshc wrote before");
        }
        List<String> foreign = new ArrayList<>();
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(out)) {
            for (Path p : ds) {
                String name = p.getFileName().toString();
                if (!name.startsWith(".") && !name.equals("lost+found")) foreign.add(name); // a file system of its own
            }
        }
        if (!foreign.isEmpty() && !writing(out) && !Manifest.isMeshc(out)) {
            foreign.sort(null);
            String shown = String.join(", ", foreign.subList(0, Math.min(5, foreign.size()))) + (foreign.size() > 5 ? ", ..." : "");
            throw new NotOwned(out + " is not empty (" + shown + ") and holds no manifest meshc wrote; choose an empty"
                    + " directory or one meshc wrote before");
        }
    }

    /** OUT holds a write of meshc's in progress, or one a kill interrupted (recovered under the lock). */
    private static boolean writing(Path out) {
        return Files.exists(out.resolve(JOURNAL)) || Files.exists(out.resolve(DIRTY));
    }

    /** The output directory is not one meshc may write into; nothing was written. */
    public static final class NotOwned extends IOException {
        NotOwned(String message) {
            super(message);
        }
    }

    /** When the previous manifest was written: files meshc wrote are not newer (it is renamed into place last). */
    private java.nio.file.attribute.FileTime manifestTime;

    private boolean holdsNothingButTheLock() throws IOException {
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(out)) {
            for (Path p : ds) {
                if (!p.getFileName().toString().equals(LOCK)) return false;
            }
        }
        return true;
    }

    private static final java.util.concurrent.ConcurrentMap<Path, Object> IN_PROCESS = new java.util.concurrent.ConcurrentHashMap<>();

    /**
     * One write: {@link #stage} files (from any thread), then {@link #commit} with the manifest.
     * Closing without committing discards what was staged and leaves the old tree.
     */
    public final class Transaction implements AutoCloseable, Compilation.Sink {
        private final FileChannel channel;
        private final FileLock lock;
        private final java.util.concurrent.locks.ReentrantLock inProcess;
        private final Previous previous;
        private final boolean fresh;
        private final Set<String> produced = java.util.concurrent.ConcurrentHashMap.newKeySet();
        private final List<String> written = java.util.Collections.synchronizedList(new ArrayList<>());
        private final List<String> unchanged = java.util.Collections.synchronizedList(new ArrayList<>());
        private final Set<String> carriedHosts = java.util.concurrent.ConcurrentHashMap.newKeySet();
        private final java.util.concurrent.atomic.AtomicLong carried = new java.util.concurrent.atomic.AtomicLong();
        private boolean done;
        private boolean closed;

        private boolean dirty;

        private Transaction(FileChannel channel, FileLock lock, java.util.concurrent.locks.ReentrantLock inProcess, Previous previous,
                            boolean fresh) {
            this.channel = channel;
            this.lock = lock;
            this.inProcess = inProcess;
            this.previous = previous;
            this.fresh = fresh;
        }

        /** Writes the artifact to a temp file beside its target, unless the target already has these bytes. */
        public void stage(Artifact a) throws IOException {
            stage(a, null);
        }

        @Override
        public void accept(Artifact a) throws IOException {
            stage(a, null);
        }

        /** What the compile that wrote this tree left: its manifest's rows and, if usable, its {@link HostState}. */
        public Previous previous() {
            return previous;
        }

        /**
         * Keeps a host's files of the previous tree as they are, unread: its inputs are unchanged, so their bytes are
         * those the previous manifest lists ({@link HostState}), and its rows are copied from that manifest.
         */
        @Override
        public void carry(String host, int files) throws IOException {
            if (!previous.hosts().contains(host)) throw new IOException("carrying hosts/" + host + ", which the previous manifest does not list");
            if (!carriedHosts.add(host)) throw new IOException("carrying hosts/" + host + " twice");
            carried.addAndGet(files);
        }

        @Override
        public void accept(Artifact a, String sha256) throws IOException {
            stage(a, sha256);
        }

        /**
         * As {@link #stage(Artifact)}, with the bytes' SHA-256. A file whose hash the previous manifest
         * already lists, with the same size and not modified since that manifest was written, is taken
         * as unchanged without reading it back — as {@code make} and git's index trust a file's stat. A
         * no-op recompile at a thousand VMs otherwise reads a gigabyte. A file edited by hand gets a
         * newer mtime and is compared, and restored, byte for byte.
         */
        public void stage(Artifact a, String sha256) throws IOException {
            if (!isSafeRelative(a.path()) || a.path().equals(Manifest.PATH)) {
                throw new IOException("refusing to write " + a.path() + " into the output directory");
            }
            if (!produced.add(a.path())) throw new IOException("two artifacts with the path " + a.path());
            if (fresh) {
                writeNew(out.resolve(STAGE).resolve(a.path()), a.bytes());
                written.add(a.path());
                return;
            }
            if (sha256 != null && sha256.equals(previous.sha(a.path())) && untouchedSinceManifest(out.resolve(a.path()), a.bytes().length)) {
                unchanged.add(a.path());
                return;
            }
            markDirty();
            OutputTree.this.stage(a, written, unchanged);
        }

        private synchronized void markDirty() throws IOException {
            if (!dirty) {
                Files.write(out.resolve(DIRTY), new byte[0]);
                dirty = true;
            }
        }

        /** Stages the manifest last, commits the journal and applies it. */
        public Result commit(Artifact manifest) throws IOException {
            return commit(manifest, null);
        }

        /**
         * As above, with the host state that goes with this manifest ({@link HostState}), renamed into place
         * just before it; null removes any earlier state (a {@code --host} compile, custom templates).
         */
        public Result commit(Artifact manifest, byte[] hostState) throws IOException {
            if (fresh) return commitFresh(manifest, hostState);
            markDirty();
            List<String> files = new ArrayList<>(written);
            files.sort(null);
            List<String> same = new ArrayList<>(unchanged);
            same.sort(null);
            List<String> manifestWritten = new ArrayList<>(), manifestSame = new ArrayList<>();
            boolean hadState = Files.exists(out.resolve(HostState.FILE));
            if (hostState != null) write(temp(out.resolve(HostState.FILE)), hostState, false);
            OutputTree.this.stage(manifest, manifestWritten, manifestSame);
            produced.add(manifest.path());
            files.addAll(manifestWritten); // renamed last
            same.addAll(manifestSame);
            List<String> removed = new ArrayList<>();
            for (Manifest.Entry e : previous.others()) removable(e.path(), removed);
            for (String host : previous.hosts()) {
                if (carriedHosts.contains(host)) continue; // kept whole
                for (Manifest.Entry e : previous.entriesOf(host)) removable(e.path(), removed);
            }
            done = true;
            removed.sort(null);
            List<Journal.Op> ops = new ArrayList<>(files.size() + removed.size() + 1);
            for (String p : files.subList(0, files.size() - manifestWritten.size())) ops.add(new Journal.Op(Journal.Kind.RENAME, p));
            if (hostState != null) ops.add(new Journal.Op(Journal.Kind.RENAME, HostState.FILE));
            else if (hadState) ops.add(new Journal.Op(Journal.Kind.DELETE, HostState.FILE));
            for (String p : manifestWritten) ops.add(new Journal.Op(Journal.Kind.RENAME, p)); // the manifest, last of the renames
            for (String p : removed) ops.add(new Journal.Op(Journal.Kind.DELETE, p));
            commitJournal(new Journal(ops));
            return new Result(files, same, removed, carried.get());
        }

        /** A file the previous manifest listed that this write did not produce, if it is still there. */
        private void removable(String path, List<String> removed) {
            if (!produced.contains(path) && Files.exists(out.resolve(path))) removed.add(path);
        }

        /** Into an empty OUT: the stage directory's top-level entries are renamed into place, the manifest last. */
        private Result commitFresh(Artifact manifest, byte[] hostState) throws IOException {
            writeNew(out.resolve(STAGE).resolve(manifest.path()), manifest.bytes());
            if (hostState != null) writeNew(out.resolve(STAGE).resolve(HostState.FILE), hostState);
            List<String> files = new ArrayList<>(written);
            files.sort(null);
            files.add(manifest.path());
            Set<String> tops = new java.util.TreeSet<>();
            for (String p : written) tops.add(p.substring(0, p.indexOf('/') < 0 ? p.length() : p.indexOf('/')));
            tops.remove(manifest.path());
            List<Journal.Op> ops = new ArrayList<>();
            for (String t : tops) ops.add(new Journal.Op(Journal.Kind.FROM_STAGE, t));
            if (hostState != null) ops.add(new Journal.Op(Journal.Kind.FROM_STAGE, HostState.FILE));
            ops.add(new Journal.Op(Journal.Kind.FROM_STAGE, manifest.path()));
            done = true;
            commitJournal(new Journal(ops));
            deleteTree(out.resolve(STAGE)); // empty now
            return new Result(files, List.of(), List.of());
        }

        private void commitJournal(Journal journal) throws IOException {
            if (!journal.ops().isEmpty()) {
                Path tmp = out.resolve(JOURNAL + TEMP_SUFFIX);
                write(tmp, journal.encode().getBytes(StandardCharsets.UTF_8), true);
                move(tmp, out.resolve(JOURNAL)); // the commit point
                fsyncDir(out);
                apply(journal);
            }
            Files.deleteIfExists(out.resolve(DIRTY)); // every temp file has been renamed
            dirty = false;
        }

        @Override
        public void close() throws IOException {
            if (closed) return;
            closed = true;
            try {
                if (!done) recover(); // discarded exactly as after a kill: stage, temp files, the directories made for them
            } finally {
                try {
                    lock.release();
                    channel.close();
                } finally {
                    inProcess.unlock();
                }
            }
        }
    }

    private final Set<Path> knownDirectories = java.util.concurrent.ConcurrentHashMap.newKeySet();

    private void stage(Artifact a, List<String> written, List<String> unchanged) throws IOException {
        Path target = out.resolve(a.path());
        if (Files.isRegularFile(target) && sameBytes(target, a.bytes())) { // a stat is far cheaper than a thrown NoSuchFileException
            unchanged.add(a.path());
            return;
        }
        ensureDirectory(target.getParent());
        write(temp(target), a.bytes(), false);
        written.add(a.path());
    }

    private boolean untouchedSinceManifest(Path file, long size) throws IOException {
        try {
            java.nio.file.attribute.BasicFileAttributes at = Files.readAttributes(file, java.nio.file.attribute.BasicFileAttributes.class,
                    java.nio.file.LinkOption.NOFOLLOW_LINKS);
            return at.isRegularFile() && at.size() == size && manifestTime != null && at.lastModifiedTime().compareTo(manifestTime) <= 0;
        } catch (java.nio.file.NoSuchFileException e) {
            return false;
        }
    }

    private static boolean sameBytes(Path file, byte[] bytes) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            if (ch.size() != bytes.length) return false;
            java.nio.ByteBuffer buf = java.nio.ByteBuffer.allocate(bytes.length);
            while (buf.hasRemaining() && ch.read(buf) >= 0) { }
            return Arrays.equals(buf.array(), bytes);
        } catch (java.nio.file.NoSuchFileException e) {
            return false;
        }
    }

    /** Completes a committed write or discards an uncommitted one. Safe to call at any time under the lock. */
    public void recover() throws IOException {
        Path journal = out.resolve(JOURNAL);
        if (Files.exists(journal)) {
            apply(Journal.parse(Files.readString(journal, StandardCharsets.UTF_8), journal.toString()));
        }
        Files.deleteIfExists(out.resolve(JOURNAL + TEMP_SUFFIX)); // a journal written but never renamed: not committed
        deleteTree(out.resolve(STAGE)); // a fresh write that never committed (or the empty rest of one that did)
        if (Files.exists(out.resolve(DIRTY))) { // temp files of a write that never committed
            List<Path> directories = new ArrayList<>();
            try (Stream<Path> s = Files.walk(out)) {
                for (Path p : (Iterable<Path>) s::iterator) {
                    if (p.getFileName().toString().endsWith(TEMP_SUFFIX) && Files.isRegularFile(p)) Files.deleteIfExists(p);
                    else if (Files.isDirectory(p, java.nio.file.LinkOption.NOFOLLOW_LINKS) && OWN_SUBTREES.contains(out.relativize(p).getName(0).toString())) {
                        directories.add(p);
                    }
                }
            }
            // and the directories it created (hosts/<new vm>/..., perhaps killed before their first temp file):
            // meshc writes no empty directory, so an empty one in its own subtrees is left over from that write
            directories.sort(java.util.Comparator.comparingInt(Path::getNameCount).reversed());
            for (Path d : directories) {
                try (DirectoryStream<Path> ds = Files.newDirectoryStream(d)) {
                    if (ds.iterator().hasNext()) continue;
                }
                Files.delete(d);
            }
            Files.delete(out.resolve(DIRTY));
        }
    }

    private static void deleteTree(Path root) throws IOException {
        if (!Files.exists(root, java.nio.file.LinkOption.NOFOLLOW_LINKS)) return;
        try (Stream<Path> s = Files.walk(root)) {
            List<Path> all = s.sorted(java.util.Comparator.reverseOrder()).toList();
            for (Path p : all) Files.deleteIfExists(p);
        }
    }

    private void apply(Journal journal) throws IOException {
        List<String> renames = new ArrayList<>(), deletes = new ArrayList<>(), fromStage = new ArrayList<>();
        for (Journal.Op op : journal.ops()) {
            switch (op.kind()) {
                case RENAME -> renames.add(op.path());
                case FROM_STAGE -> fromStage.add(op.path());
                case DELETE -> deletes.add(op.path());
            }
        }
        for (String p : fromStage) { // the manifest is listed last
            Path staged = out.resolve(STAGE).resolve(p);
            if (Files.exists(staged, java.nio.file.LinkOption.NOFOLLOW_LINKS)) move(staged, out.resolve(p));
        }
        // Renames are independent of each other: in parallel (a fleet's output is 10^5 files), the manifest last.
        boolean manifestLast = !renames.isEmpty() && renames.get(renames.size() - 1).equals(Manifest.PATH);
        List<String> parallel = manifestLast ? renames.subList(0, renames.size() - 1) : renames;
        try {
            parallel.parallelStream().forEach(p -> {
                try {
                    renameStaged(p);
                } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            });
        } catch (java.io.UncheckedIOException e) {
            throw e.getCause();
        }
        if (manifestLast) renameStaged(Manifest.PATH);
        for (String p : deletes) {
            Path target = out.resolve(p);
            Files.deleteIfExists(target);
            pruneEmptyParents(target.getParent());
        }
        fsyncDir(out);
        Files.deleteIfExists(out.resolve(JOURNAL));
    }

    private void renameStaged(String path) throws IOException {
        Path target = out.resolve(path);
        Path t = temp(target);
        if (Files.exists(t)) move(t, target);
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

    /** One open, one write, one close (Files.write goes through an 8 KiB stream buffer); fsynced if durable. */
    private static void write(Path p, byte[] bytes, boolean durable) throws IOException {
        try (FileChannel ch = FileChannel.open(p, StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
            java.nio.ByteBuffer b = java.nio.ByteBuffer.wrap(bytes);
            while (b.hasRemaining()) ch.write(b);
            if (durable) ch.force(true);
        }
    }

    /** A file in the stage directory, which holds nothing yet: no comparison. */
    private void writeNew(Path p, byte[] bytes) throws IOException {
        ensureDirectory(p.getParent());
        write(p, bytes, false);
    }

    /** Parent directories are created once per directory, not once per file. */
    private void ensureDirectory(Path dir) throws IOException {
        if (!knownDirectories.contains(dir)) {
            Files.createDirectories(dir);
            knownDirectories.add(dir);
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

    /** meshc's own files in OUT (lock, journal, markers, temp files, the stage directory): never output, never drift. */
    public static boolean isBookkeeping(String rel) {
        return rel.equals(LOCK) || rel.equals(JOURNAL) || rel.equals(DIRTY) || rel.equals(HostState.FILE) || rel.equals(STAGE) || rel.startsWith(STAGE + "/")
                || rel.endsWith(TEMP_SUFFIX);
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
