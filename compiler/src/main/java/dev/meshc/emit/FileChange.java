package dev.meshc.emit;

/** One file that differs between an existing tree and a compile's output. Bytes are null where absent. */
public record FileChange(String path, Kind kind, byte[] before, byte[] after) {
    public enum Kind { ADDED, CHANGED, REMOVED }
}
