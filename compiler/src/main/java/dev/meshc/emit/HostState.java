package dev.meshc.emit;

import dev.meshc.diag.Code;
import dev.meshc.diag.Diagnostic;
import dev.meshc.diag.SourceSpan;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * {@code OUT/.meshc-hosts}: what the full compile that wrote OUT's manifest knew, for the next compile into OUT.
 * <ul>
 * <li>that manifest's identity (its size and CRC-32C: a check against a manifest some other write replaced, not
 *     against forgery; hashing a fleet's 26 MB manifest with SHA-256 twice per compile cost half a second);
 * <li>the input digest of every host ({@link HostInputs}): a host whose digest is unchanged is not rendered;
 * <li>the fingerprint of the compile's input bytes ({@link #fingerprint}: renderers, inventory, lock as it was
 *     left) and the warnings it printed: a compile of the very same bytes changes nothing, so it reads neither
 *     YAML nor manifest rows and prints the same warnings again;
 * <li>the number of files the manifest lists (for the message of such a compile).
 * </ul>
 * It is bookkeeping, like the lock file: not output, not in the manifest, renamed into place by the same journal
 * as the manifest, just before it. It counts only beside the very manifest it names; any other (an older meshc's
 * tree, a {@code --host} compile, a manifest written by hand) means every host is rendered.
 */
public record HostState(String manifestId, String inputs, long files, List<Diagnostic> diagnostics, Map<String, String> digests) {
    static final String FILE = ".meshc-hosts";
    private static final String HEADER = "meshc host inputs 2";
    /** No fingerprint: the compile that wrote the state cannot vouch for its inputs (a plan, a test). */
    public static final String NO_INPUTS = "-";

    public HostState {
        digests = Collections.unmodifiableMap(new TreeMap<>(digests));
        diagnostics = List.copyOf(diagnostics);
    }

    /**
     * The same state, vouching for a compile of these input bytes, which printed these diagnostics. Where they name
     * the inventory or the lock file, the state keeps a placeholder ({@link #diagnosticsFor} puts back the paths of
     * the compile that reads it): the output does not depend on the paths, and the same inventory is compiled from
     * another directory as often as from the same one.
     */
    public HostState withInputs(String fingerprint, List<Diagnostic> printed, String inventoryLabel, String lockLabel) {
        List<Diagnostic> kept = new ArrayList<>(printed.size());
        Map<String, String> placeholders = new java.util.HashMap<>();
        placeholders.put(lockLabel, LOCK);
        placeholders.put(inventoryLabel, INVENTORY);
        for (Diagnostic d : printed) kept.add(relabel(d, placeholders));
        return new HostState(manifestId, fingerprint, files, kept, digests);
    }

    /** The diagnostics to print again, naming the inventory and lock as this compile names them. */
    public List<Diagnostic> diagnosticsFor(String inventoryLabel, String lockLabel) {
        List<Diagnostic> out = new ArrayList<>(diagnostics.size());
        for (Diagnostic d : diagnostics) out.add(relabel(d, Map.of(INVENTORY, inventoryLabel, LOCK, lockLabel)));
        return out;
    }

    private static final String INVENTORY = "\u0001inventory", LOCK = "\u0001lock";

    private static Diagnostic relabel(Diagnostic d, Map<String, String> files) {
        String file = files.get(d.at().file());
        return file == null ? d : new Diagnostic(d.severity(), d.code(), new SourceSpan(file, d.at().line(), d.at().column()), d.message());
    }

    public byte[] encode() {
        StringBuilder sb = new StringBuilder(HEADER).append("\nmanifest ").append(manifestId).append("\ninputs ").append(inputs)
                .append("\nfiles ").append(files).append('\n');
        Base64.Encoder b64 = Base64.getEncoder();
        for (Diagnostic d : diagnostics) {
            String fields = String.join("\0", d.code().name(), d.at().file(), Integer.toString(d.at().line()),
                    Integer.toString(d.at().column()), d.message());
            sb.append("diagnostic ").append(b64.encodeToString(fields.getBytes(StandardCharsets.UTF_8))).append('\n');
        }
        digests.forEach((vm, d) -> sb.append(vm).append(' ').append(d).append('\n'));
        return sb.toString().getBytes(StandardCharsets.UTF_8);
    }

    /** The state beside a manifest: the digests of the compile that wrote it (no fingerprint yet). */
    public static HostState of(Map<String, String> digests, byte[] manifest, long files) {
        return new HostState(id(manifest), NO_INPUTS, files, List.of(), digests);
    }

    /** A manifest's identity: its size and CRC-32C. */
    static String id(byte[] manifest) {
        java.util.zip.CRC32C crc = new java.util.zip.CRC32C();
        crc.update(manifest);
        return manifest.length + "-" + Long.toHexString(crc.getValue());
    }

    /**
     * The SHA-256 of what a compile's output is a function of, besides the options that make a compile incremental
     * at all: the renderers ({@link Compilation#bundledContext}), the inventory's bytes, and the lock's bytes as the
     * compile left the lock file (null: none). Not their paths: those only name files in diagnostics.
     */
    public static String fingerprint(String context, byte[] inventory, byte[] lock) {
        HostInputs.Feed f = new HostInputs.Feed();
        f.value(context);
        f.bytes(inventory);
        f.bytes(lock);
        return f.hex();
    }

    /** The state recorded for the manifest with this identity, or null (render every host). */
    static HostState read(Path out, String manifestId) {
        Path f = out.resolve(FILE);
        if (manifestId == null || !Files.isRegularFile(f)) return null;
        try {
            List<String> lines = Files.readAllLines(f, StandardCharsets.UTF_8);
            if (lines.size() < 4 || !lines.get(0).equals(HEADER) || !lines.get(1).equals("manifest " + manifestId)
                    || !lines.get(2).startsWith("inputs ") || !lines.get(3).startsWith("files ")) {
                return null;
            }
            String inputs = lines.get(2).substring("inputs ".length());
            long files = Long.parseLong(lines.get(3).substring("files ".length()));
            List<Diagnostic> diags = new ArrayList<>();
            Map<String, String> digests = new java.util.HashMap<>();
            Base64.Decoder b64 = Base64.getDecoder();
            for (String line : lines.subList(4, lines.size())) {
                if (line.startsWith("diagnostic ")) {
                    String[] d = new String(b64.decode(line.substring("diagnostic ".length())), StandardCharsets.UTF_8).split("\0", 5);
                    Code code = Code.valueOf(d[0]);
                    diags.add(Diagnostic.of(code, new SourceSpan(d[1], Integer.parseInt(d[2]), Integer.parseInt(d[3])), d[4]));
                    continue;
                }
                int sp = line.indexOf(' ');
                if (sp <= 0) return null;
                digests.put(line.substring(0, sp), line.substring(sp + 1));
            }
            return new HostState(manifestId, inputs, files, diags, digests);
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }
}
