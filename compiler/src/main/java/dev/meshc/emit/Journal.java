package dev.meshc.emit;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/**
 * The commit record of one write to OUT: which staged files to move into place and which files to
 * delete. {@link OutputTree} writes it, renames it into place (the commit point) and applies it; a
 * run that finds one left by a kill applies it again, so every operation is idempotent. One line per
 * operation, {@code <letter> <path>}. A line this code cannot read is an error, never a guess: the
 * journal decides what gets deleted.
 */
public record Journal(List<Op> ops) {

    /** What to do with one path. */
    public enum Kind {
        /** Rename the temp file beside the target ({@code .<name>.meshc-new}) onto it. */
        RENAME('R'),
        /** Move a top-level entry of the stage directory into OUT (a first write). */
        FROM_STAGE('M'),
        /** Delete the file (listed by the previous manifest, not produced now) and its emptied directories. */
        DELETE('D');

        final char letter;

        Kind(char letter) {
            this.letter = letter;
        }
    }

    public record Op(Kind kind, String path) {
    }

    public Journal {
        ops = List.copyOf(ops);
    }

    /** A journal that cannot be read: OUT is left as it is, for a person to look at. */
    public static final class Unreadable extends IOException {
        Unreadable(String message) {
            super(message);
        }
    }

    public String encode() {
        StringBuilder sb = new StringBuilder();
        for (Op op : ops) sb.append(op.kind().letter).append(' ').append(op.path()).append('\n');
        return sb.toString();
    }

    /** @param where the journal's file, for the message */
    public static Journal parse(String text, String where) throws Unreadable {
        List<Op> ops = new ArrayList<>();
        int n = 0;
        for (String line : text.split("\n")) {
            n++;
            if (line.isEmpty() && n == 1 && text.isEmpty()) break;
            Kind kind = line.length() > 2 && line.charAt(1) == ' ' ? kindOf(line.charAt(0)) : null;
            String path = line.length() > 2 ? line.substring(2) : "";
            if (kind == null || !OutputTree.isSafeRelative(path)) {
                throw new Unreadable(where + ":" + n + ": not a journal line meshc writes: '" + line + "'; the interrupted write"
                        + " cannot be completed, so nothing was changed (remove the journal and recompile into an empty directory)");
            }
            ops.add(new Op(kind, path));
        }
        return new Journal(ops);
    }

    private static Kind kindOf(char letter) {
        for (Kind k : Kind.values()) if (k.letter == letter) return k;
        return null;
    }
}
