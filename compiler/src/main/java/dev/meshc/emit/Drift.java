package dev.meshc.emit;

import com.github.difflib.DiffUtils;
import com.github.difflib.UnifiedDiffUtils;
import dev.meshc.render.Artifact;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.TreeMap;

/** Compares a compile's output with a directory on disk ({@code check}, {@code plan}). */
public final class Drift {
    private Drift() {
    }

    /**
     * Compares artifacts with the files under a directory as they stream in (from several threads),
     * keeping only what differs, so a fleet-sized output is never held in memory. Files of hosts that
     * were carried over ({@link Compilation.Sink#carry}) are taken as unchanged and not even listed.
     */
    public static final class Comparison implements Compilation.Sink {
        private final Path dir;
        private final java.util.function.Predicate<String> keepBytes;
        private final Set<String> produced = ConcurrentHashMap.newKeySet();
        private final Set<String> carriedHosts = ConcurrentHashMap.newKeySet();
        private final Map<String, FileChange> changes = new ConcurrentHashMap<>();

        /** Keeps the old and new bytes of every change (for a diff). */
        public Comparison(Path dir) {
            this(dir, p -> true);
        }

        /**
         * Keeps bytes only for the paths {@code keepBytes} accepts; the others are reported by path and kind.
         * A plan against an empty OUT "adds" every file: at a thousand VMs that is a gigabyte it never reads.
         */
        public Comparison(Path dir, java.util.function.Predicate<String> keepBytes) {
            this.dir = dir;
            this.keepBytes = keepBytes;
        }

        @Override
        public void accept(Artifact a) throws IOException {
            boolean keep = keepBytes.test(a.path());
            produced.add(a.path());
            Path file = dir.resolve(a.path());
            if (!Files.isRegularFile(file)) {
                changes.put(a.path(), new FileChange(a.path(), FileChange.Kind.ADDED, null, keep ? a.bytes() : null));
                return;
            }
            byte[] old = Files.readAllBytes(file);
            if (!Arrays.equals(old, a.bytes())) {
                changes.put(a.path(), new FileChange(a.path(), FileChange.Kind.CHANGED, keep ? old : null, keep ? a.bytes() : null));
            }
        }

        @Override
        public void carry(String host, int files) {
            carriedHosts.add(host);
        }

        /** Adds the files on disk that nothing produced (removed), skipping the directories of carried hosts. */
        public List<FileChange> finish() throws IOException {
            if (Files.isDirectory(dir)) {
                Path hosts = dir.resolve("hosts");
                Files.walkFileTree(dir, new java.nio.file.SimpleFileVisitor<>() {
                    @Override
                    public java.nio.file.FileVisitResult preVisitDirectory(Path d, java.nio.file.attribute.BasicFileAttributes attrs) {
                        return hosts.equals(d.getParent()) && carriedHosts.contains(d.getFileName().toString())
                                ? java.nio.file.FileVisitResult.SKIP_SUBTREE : java.nio.file.FileVisitResult.CONTINUE;
                    }

                    @Override
                    public java.nio.file.FileVisitResult visitFile(Path p, java.nio.file.attribute.BasicFileAttributes attrs) throws IOException {
                        if (!attrs.isRegularFile()) return java.nio.file.FileVisitResult.CONTINUE;
                        String rel = dir.relativize(p).toString().replace('\\', '/');
                        if (!OutputTree.isBookkeeping(rel) && !produced.contains(rel)) {
                            changes.put(rel, new FileChange(rel, FileChange.Kind.REMOVED, keepBytes.test(rel) ? Files.readAllBytes(p) : null, null));
                        }
                        return java.nio.file.FileVisitResult.CONTINUE;
                    }
                });
            }
            return new ArrayList<>(new TreeMap<>(changes).values());
        }
    }

    /** A reviewable unified diff ({@code a/} = on disk, {@code b/} = what meshc would write). */
    public static String unifiedDiff(List<FileChange> changes) {
        StringBuilder sb = new StringBuilder();
        for (FileChange c : changes) {
            List<String> before = lines(c.before()), after = lines(c.after());
            String from = c.kind() == FileChange.Kind.ADDED ? "/dev/null" : "a/" + c.path();
            String to = c.kind() == FileChange.Kind.REMOVED ? "/dev/null" : "b/" + c.path();
            List<String> diff = UnifiedDiffUtils.generateUnifiedDiff(from, to, before, DiffUtils.diff(before, after), 3);
            if (diff.isEmpty()) { // no lines differ: an empty file added or removed, or only a final newline or line ending
                sb.append("--- ").append(from).append('\n').append("+++ ").append(to).append('\n')
                        .append(switch (c.kind()) {
                            case ADDED -> "@@ a new, empty file @@\n";
                            case REMOVED -> "@@ an empty file removed @@\n";
                            default -> "@@ line endings or final newline differ @@\n";
                        });
            }
            for (String l : diff) sb.append(l).append('\n');
        }
        return sb.toString();
    }

    private static List<String> lines(byte[] b) {
        if (b == null || b.length == 0) return List.of();
        String s = new String(b, StandardCharsets.UTF_8);
        if (s.endsWith("\n")) s = s.substring(0, s.length() - 1);
        return Arrays.asList(s.split("\n", -1));
    }
}
