package dev.meshc.cli;

/** A command line that names something unusable (a directory for a file, a missing folder): exit 2, nothing written. */
final class UsageError extends RuntimeException {
    UsageError(String message) {
        super(message);
    }
}
