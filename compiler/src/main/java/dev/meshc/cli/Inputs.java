package dev.meshc.cli;

import dev.meshc.plan.Frontend;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

/** Reads the inventory and its lock file and runs the front end; keeps the texts for the reporter. */
final class Inputs {
    final Path inventory;
    final Path lock;
    final Map<String, String> sources = new HashMap<>();
    byte[] inventoryBytes;
    String lockText;

    Inputs(Path inventory, Path lock) {
        this.inventory = inventory;
        this.lock = lock != null ? lock : siblingLock(inventory);
    }

    /** meshc.lock beside the inventory, as a path relative to where the inventory's was (diagnostics show it as given). */
    static Path siblingLock(Path inventory) {
        Path parent = inventory.getParent();
        if (parent == null) return inventory.isAbsolute() ? inventory.toAbsolutePath().resolveSibling("meshc.lock") : Path.of("meshc.lock");
        return parent.resolve("meshc.lock");
    }

    String label() {
        return inventory.toString();
    }

    String lockLabel() {
        return lock.toString();
    }

    /** Refuses a lock path that is not a file, and, when the lock will be written, one whose directory does not exist. */
    void checkLockPath(boolean willWrite) {
        if (Files.exists(lock) && !Files.isRegularFile(lock)) throw new UsageError("--lock " + lock + " is not a file");
        Path dir = lock.toAbsolutePath().getParent();
        if (willWrite && (dir == null || !Files.isDirectory(dir))) {
            throw new UsageError("--lock " + lock + ": the directory " + dir + " does not exist");
        }
    }

    Frontend.Result run() throws IOException {
        Frontend.Result tooLarge = read();
        return tooLarge != null ? tooLarge : Frontend.run(label(), inventoryBytes, lockLabel(), lockText);
    }

    /**
     * Reads the inventory and the lock (if there is one) into {@link #inventoryBytes} and {@link #lockText}, the
     * sources of diagnostics; returns the front end's result for a file too large to read, else null.
     */
    Frontend.Result read() throws IOException {
        if (inventoryBytes != null) return null;
        checkLockPath(false);
        long max = dev.meshc.load.InputLimits.DEFAULT.maxBytes();
        try {
            if (Files.isDirectory(inventory)) throw new IOException(inventory + " is a directory, not an inventory file");
            long size = Files.size(inventory);
            if (size > max) return Frontend.tooLarge(label(), size); // rejected without reading it into memory
            byte[] bytes = readAtMost(inventory, max); // a pipe or /dev/zero has no size: bounded all the same
            if (bytes.length > max) return Frontend.tooLarge(label(), -1);
            inventoryBytes = bytes;
        } catch (NoSuchFileException e) {
            throw new IOException("cannot read " + inventory + ": no such file");
        }
        sources.put(label(), new String(inventoryBytes, StandardCharsets.UTF_8));
        if (Files.isRegularFile(lock)) {
            byte[] lockBytes = readAtMost(lock, max);
            if (lockBytes.length > max) return Frontend.tooLarge(lockLabel(), Files.size(lock));
            lockText = new String(lockBytes, StandardCharsets.UTF_8);
            sources.put(lockLabel(), lockText);
        }
        return null;
    }

    /**
     * The fingerprint of a compile of these inputs into an OUT whose lock file then reads {@code lockAfter}
     * (null: no lock file), as {@link dev.meshc.emit.HostState} records it.
     */
    String fingerprint(String context, String lockAfter) {
        return dev.meshc.emit.HostState.fingerprint(context, inventoryBytes, lockAfter == null ? null : lockAfter.getBytes(StandardCharsets.UTF_8));
    }

    /** At most {@code max + 1} bytes: one more than the limit says the input exceeds it. */
    private static byte[] readAtMost(Path file, long max) throws IOException {
        try (java.io.InputStream in = Files.newInputStream(file)) {
            return in.readNBytes((int) Math.min(Integer.MAX_VALUE - 8, max + 1));
        }
    }
}
