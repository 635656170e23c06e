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

    static Path siblingLock(Path inventory) {
        Path parent = inventory.toAbsolutePath().getParent();
        return parent == null ? Path.of("meshc.lock") : parent.resolve("meshc.lock");
    }

    String label() {
        return inventory.toString();
    }

    String lockLabel() {
        return lock.toString();
    }

    Frontend.Result run() throws IOException {
        try {
            if (Files.isDirectory(inventory)) throw new IOException(inventory + " is a directory, not an inventory file");
            long size = Files.size(inventory);
            if (size > dev.meshc.load.InputLimits.DEFAULT.maxBytes()) {
                return Frontend.tooLarge(label(), size); // rejected without reading it into memory
            }
            inventoryBytes = Files.readAllBytes(inventory);
        } catch (NoSuchFileException e) {
            throw new IOException("cannot read " + inventory + ": no such file");
        }
        sources.put(label(), new String(inventoryBytes, StandardCharsets.UTF_8));
        if (Files.isRegularFile(lock)) {
            lockText = Files.readString(lock, StandardCharsets.UTF_8);
            sources.put(lockLabel(), lockText);
        }
        return Frontend.run(label(), inventoryBytes, lockLabel(), lockText);
    }
}
