package dev.meshc.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.meshc.TestSupport;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The launchers' choice of JIT: C1 alone for commands that end within a few seconds, tiered compilation
 * (C2) for those that render the whole fleet. Both real launchers run, {@code ./meshc} from a copy of the
 * repository's top level holding a prebuilt (empty) jar, the release's {@code bin/meshc} from the
 * tarball's layout, with {@code java} on the PATH replaced by a script that prints its arguments.
 */
class LauncherTest {
    private static final String C1_ONLY = "-XX:TieredStopAtLevel=1";
    private static final String LATER_C2 = "-XX:Tier4InvocationThreshold=50000";

    @TempDir
    Path dir;

    enum Launcher { CLONE, RELEASE }

    /** The java arguments before {@code -jar} that each launcher passes for {@code args}; both must agree. */
    private List<String> javaArgs(String javaOpts, String... args) throws IOException, InterruptedException {
        List<String> clone = javaArgs(Launcher.CLONE, javaOpts, args);
        List<String> release = javaArgs(Launcher.RELEASE, javaOpts, args);
        assertEquals(clone.stream().filter(a -> a.startsWith("-XX:Tier")).toList(),
                release.stream().filter(a -> a.startsWith("-XX:Tier")).toList(), "both launchers choose the same JIT for " + List.of(args));
        return clone;
    }

    private List<String> javaArgs(Launcher launcher, String javaOpts, String... args) throws IOException, InterruptedException {
        Path repo = TestSupport.root();
        Path bin = dir.resolve("bin");
        if (!Files.exists(bin)) {
            Path clone = dir.resolve("clone");
            Files.createDirectories(clone.resolve("compiler/target"));
            Files.createDirectories(clone.resolve("compiler/src/release"));
            Files.copy(repo.resolve("meshc"), clone.resolve("meshc"));
            Files.copy(repo.resolve("compiler/src/release/jit.sh"), clone.resolve("compiler/src/release/jit.sh"));
            Files.write(clone.resolve("compiler/target/meshc.jar"), new byte[0]); // nothing newer: no build
            Path release = dir.resolve("release");
            Files.createDirectories(release.resolve("bin"));
            Files.createDirectories(release.resolve("lib"));
            Files.copy(repo.resolve("compiler/src/release/meshc"), release.resolve("bin/meshc"));
            Files.copy(repo.resolve("compiler/src/release/jit.sh"), release.resolve("lib/jit.sh")); // as the assembly lays it out
            Files.write(release.resolve("lib/meshc.jar"), new byte[0]);
            Files.createDirectories(bin);
            Path java = bin.resolve("java");
            Files.writeString(java, "#!/bin/sh\nfor a in \"$@\"; do echo \"$a\"; done\n");
            Files.setPosixFilePermissions(java, PosixFilePermissions.fromString("rwxr-xr-x"));
        }
        Path script = launcher == Launcher.CLONE ? dir.resolve("clone/meshc") : dir.resolve("release/bin/meshc");
        List<String> cmd = new ArrayList<>(List.of("bash", script.toString()));
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
        pb.environment().put("PATH", bin + ":" + System.getenv("PATH"));
        pb.environment().remove("JAVA_HOME");
        pb.environment().put("MESHC_NO_CDS", "1");
        if (javaOpts != null) pb.environment().put("MESHC_JAVA_OPTS", javaOpts);
        else pb.environment().remove("MESHC_JAVA_OPTS");
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, p.waitFor(), launcher + ": " + out);
        List<String> lines = out.lines().toList();
        int jar = lines.indexOf("-jar");
        assertTrue(jar > 0, launcher + " ran java -jar: " + out);
        assertEquals(List.of(args), lines.subList(jar + 2, lines.size()), "arguments are passed on unchanged");
        return lines.subList(0, jar);
    }

    @Test
    void theReleaseTarballShipsTheSharedJitScriptWhereItsLauncherLooks() {
        String assembly = TestSupport.read(TestSupport.root().resolve("compiler/src/assembly/release.xml"));
        assertTrue(assembly.contains("<source>src/release/jit.sh</source><outputDirectory>lib</outputDirectory>"), assembly);
    }

    @Test
    void wholeFleetCommandsKeepC2() throws Exception {
        for (String[] args : List.of(new String[] {"compile", "inv.yml", "-o", "out"}, new String[] {"check", "inv.yml", "--golden", "g"},
                new String[] {"plan", "inv.yml", "--against", "out", "--json"})) {
            List<String> java = javaArgs(null, args);
            assertTrue(!java.contains(C1_ONLY) && java.contains(LATER_C2), String.join(" ", args) + ": " + java);
        }
    }

    @Test
    void shortCommandsRunWithC1Only() throws Exception {
        for (String[] args : List.of(new String[] {"compile", "inv.yml", "-o", "out", "--host", "vm-a"},
                new String[] {"compile", "inv.yml", "--host=vm-a", "-o", "out"}, new String[] {"validate", "inv.yml"},
                new String[] {"vip", "db"}, new String[] {"explain", "240.0.0.1"}, new String[] {"--version"}, new String[] {})) {
            List<String> java = javaArgs(null, args);
            assertTrue(java.contains(C1_ONLY) && !java.contains(LATER_C2), String.join(" ", args) + ": " + java);
        }
    }

    @Test
    void userOptionsComeLastSoTheyWin() throws Exception {
        List<String> java = javaArgs("-XX:TieredStopAtLevel=4 -Xmx2g", "validate", "inv.yml");
        assertTrue(java.indexOf("-XX:TieredStopAtLevel=4") > java.indexOf(C1_ONLY), java.toString());
        assertTrue(java.indexOf("-Xmx2g") > java.indexOf("-Xmx1g"), java.toString());
    }
}
