package dev.meshc.render;

/** One output file, fully rendered in memory: a path relative to OUT and its bytes. */
public record Artifact(String path, byte[] bytes) implements Comparable<Artifact> {

    @Override
    public int compareTo(Artifact o) {
        return path.compareTo(o.path);
    }
}
