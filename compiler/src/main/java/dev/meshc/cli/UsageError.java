package dev.meshc.cli;

/** A command line that names something unusable (a directory for a file, a missing folder): exit 2, nothing written. */
final class UsageError extends RuntimeException {
    UsageError(String message) {
        super(message);
    }

    /**
     * Refuses {@code OPTION PATH} unless PATH is a directory. {@code whenMissing} completes the message
     * for a PATH that does not exist; null lets a missing one through (the caller gives it a meaning).
     */
    static void unlessDirectory(String option, java.nio.file.Path path, String whenMissing) {
        if (java.nio.file.Files.isDirectory(path)) return;
        if (java.nio.file.Files.exists(path)) throw new UsageError(option + " " + path + " is not a directory");
        if (whenMissing != null) throw new UsageError(option + " " + path + " " + whenMissing);
    }
}
