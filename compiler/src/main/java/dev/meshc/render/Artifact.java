package dev.meshc.render;

import java.nio.charset.StandardCharsets;

/** One output file, fully rendered in memory: a path relative to OUT and its bytes. */
public record Artifact(String path, byte[] bytes) implements Comparable<Artifact> {

    public static Artifact text(String path, String text) {
        return new Artifact(path, text.getBytes(StandardCharsets.UTF_8));
    }

    @Override
    public int compareTo(Artifact o) {
        return path.compareTo(o.path);
    }
}
