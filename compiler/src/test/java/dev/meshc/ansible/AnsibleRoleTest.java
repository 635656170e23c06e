package dev.meshc.ansible;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.meshc.TestSupport;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * examples/ansible with Debian's ansible-core against local targets: one scratch root per VM
 * (connection: local), bin/meshc-apply replaced by a stand-in that logs instead of touching this
 * machine's network (the real one runs in the kernel suite's DayInTheLifeTest) and, like it, does
 * nothing for files it applied successfully before. Check mode changes nothing; a real run installs
 * and applies; a second run changes nothing; a failed apply is retried by the next run although no
 * file changed; a moved container changes only what it must and its old files are removed.
 */
class AnsibleRoleTest {
    static final Pattern RECAP = Pattern.compile("^(\\S+)\\s+: ok=(\\d+)\\s+changed=(\\d+)\\s+unreachable=(\\d+)\\s+failed=(\\d+)", Pattern.MULTILINE);

    record Run(int code, String out, Map<String, Integer> changed) {
    }

    static Run playbook(Path work, Path out, String... extra) throws Exception {
        List<String> cmd = new ArrayList<>(List.of("ansible-playbook", "-i", out.resolve("ansible/inventory.yml").toString(),
                TestSupport.root().resolve("examples/ansible/site.yml").toString(),
                "-e", "ansible_connection=local", "-e", "ansible_python_interpreter=/usr/bin/python3",
                "-e", "meshc_out=" + out, "-e", "meshc_root=" + work.resolve("roots") + "/{{ inventory_hostname }}",
                "-e", "meshc_apply_command='sh " + standIn(work) + " {{ meshc_root }}'",
                "-e", "meshc_enable_command='echo enable >> {{ meshc_root }}/handlers.log'"));
        cmd.addAll(List.of(extra));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
        pb.environment().put("ANSIBLE_NOCOLOR", "1");
        pb.environment().put("ANSIBLE_LOCAL_TEMP", work.resolve("ansible-tmp").toString());
        pb.environment().put("ANSIBLE_HOME", work.resolve("ansible-home").toString());
        Process p = pb.start();
        String text = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(300, TimeUnit.SECONDS)) fail("ansible-playbook timed out");
        Map<String, Integer> changed = new TreeMap<>();
        Matcher m = RECAP.matcher(text);
        while (m.find()) changed.put(m.group(1), Integer.parseInt(m.group(3)));
        return new Run(p.exitValue(), text, changed);
    }

    /** Logs "apply" and records the bundle's hash; prints "meshc-apply: unchanged" for a bundle it applied; fails while ROOT/fail exists. */
    static Path standIn(Path work) throws IOException {
        Path p = work.resolve("meshc-apply-stand-in.sh");
        Files.writeString(p, """
                root=$1
                s=$(cd "$root/etc/meshc" && find . -type f | LC_ALL=C sort | xargs sha256sum | sha256sum)
                if [ "$(cat "$root/applied" 2>/dev/null)" = "$s" ]; then echo "meshc-apply: unchanged"; exit 0; fi
                rm -f "$root/applied"
                if [ -e "$root/fail" ]; then echo "meshc-apply: nft -f failed" >&2; exit 1; fi
                echo apply >> "$root/handlers.log"
                echo "$s" > "$root/applied"
                echo "meshc-apply: applied"
                """);
        return p;
    }

    static String handlers(Path work, String vm) throws IOException {
        Path log = work.resolve("roots").resolve(vm).resolve("handlers.log");
        return Files.exists(log) ? Files.readString(log) : "";
    }

    @Test
    void installsAppliesAndIsIdempotent(@TempDir Path work) throws Exception {
        boolean present = new ProcessBuilder("sh", "-c", "command -v ansible-playbook").start().waitFor() == 0;
        if (!present) {
            if ("true".equals(System.getenv("CI"))) fail("ansible-playbook missing under CI=true (.ci/run installs ansible-core)");
            Assumptions.abort("ansible-playbook not installed");
        }
        Path inv = work.resolve("inventory.yml");
        Files.writeString(inv, TestSupport.read(TestSupport.example("fleet")));
        Files.copy(TestSupport.example("fleet").resolveSibling("meshc.lock"), work.resolve("meshc.lock"));
        Path out = work.resolve("out");
        assertEquals(0, TestSupport.meshc("compile", inv.toString(), "-o", out.toString(), "-q").code());

        Run check = playbook(work, out, "--check", "--diff");
        assertEquals(0, check.code(), check.out());
        assertEquals(3, check.changed().size(), check.out());
        check.changed().forEach((vm, n) -> assertTrue(n > 0, vm + " would change: " + check.out()));
        assertFalse(Files.exists(work.resolve("roots/vm1/etc/systemd/network/60-meshc-vx.network")), "check mode writes nothing");
        for (String vm : List.of("vm1", "vm2", "vm3")) { // Debian's default nftables.conf, as on a fresh host
            Files.createDirectories(work.resolve("roots/" + vm + "/etc"));
            Files.writeString(work.resolve("roots/" + vm + "/etc/nftables.conf"), "#!/usr/sbin/nft -f\n\nflush ruleset\n");
        }

        Run real = playbook(work, out);
        assertEquals(0, real.code(), real.out());
        Path vm1 = work.resolve("roots/vm1");
        assertTrue(Files.exists(vm1.resolve("etc/systemd/network/60-meshc-vx.network")));
        assertTrue(Files.exists(vm1.resolve("etc/meshc/bin/meshc-apply")));
        assertTrue(Files.exists(vm1.resolve("etc/systemd/system/meshc.service")));
        assertEquals("MESHC_FIREWALL=nft\nMESHC_ROUTING=networkd\n", Files.readString(vm1.resolve("etc/default/meshc")));
        assertTrue(Files.exists(work.resolve("roots/vm3/etc/meshc/containers/db-3/relationships.json")));
        assertArrayEqualsFile(out.resolve("hosts/vm2/nftables/meshc.nft"), work.resolve("roots/vm2/etc/meshc/nftables/meshc.nft"));
        assertTrue(Files.readString(vm1.resolve("etc/nftables.conf")).contains("include \"" + vm1 + "/etc/meshc/nftables/meshc.nft\""),
                "nftables.conf includes meshc's ruleset");
        for (String vm : List.of("vm1", "vm2", "vm3")) {
            assertEquals("enable\napply\n", sorted(handlers(work, vm)), "applied and enabled once on " + vm);
        }

        Run again = playbook(work, out);
        assertEquals(0, again.code(), again.out());
        again.changed().forEach((vm, n) -> assertEquals(0, n, "second run changes nothing on " + vm + ":\n" + again.out()));
        assertEquals("enable\napply\n", sorted(handlers(work, "vm1")), "nothing applied on an unchanged host");

        // A failed apply is retried by the next run, although no file changed since.
        Path nft = out.resolve("hosts/vm2/nftables/meshc.nft");
        byte[] original = Files.readAllBytes(nft);
        Files.writeString(nft, Files.readString(nft) + "# a changed bundle\n");
        Files.writeString(work.resolve("roots/vm2/fail"), "");
        Run failed = playbook(work, out);
        assertTrue(failed.code() != 0, failed.out());
        Files.delete(work.resolve("roots/vm2/fail"));
        Run retried = playbook(work, out);
        Files.write(nft, original);
        assertEquals(0, retried.code(), retried.out());
        assertEquals(1, retried.changed().get("vm2"), "the retry applies: " + retried.out());
        assertEquals(2, handlers(work, "vm2").lines().filter("apply"::equals).count(), "applied again after the failure");
        Run restored = playbook(work, out); // the original bundle back
        assertEquals(0, restored.code(), restored.out());

        // Move db-3 from vm3 to vm1 and redeploy.
        Files.writeString(inv, Files.readString(inv).replace("db-3: {service: db, vm: vm3}", "db-3: {service: db, vm: vm1}"));
        assertEquals(0, TestSupport.meshc("compile", inv.toString(), "-o", out.toString(), "-q").code());
        Run diff = playbook(work, out, "--check", "--diff");
        assertEquals(0, diff.code(), diff.out());
        assertTrue(diff.out().contains("meshc.nft"), "check --diff shows the ruleset diff");
        Run moved = playbook(work, out);
        assertEquals(0, moved.code(), moved.out());
        assertTrue(Files.exists(work.resolve("roots/vm1/etc/meshc/containers/db-3/network.json")));
        assertFalse(Files.exists(work.resolve("roots/vm3/etc/meshc/containers/db-3")), "the moved container's old files are removed");
        assertFalse(Files.exists(work.resolve("roots/vm3/etc/systemd/network/70-meshc-mc2.network")), "and its veth's networkd file");
        assertEquals(2, handlers(work, "vm3").lines().filter("apply"::equals).count(), "vm3 applies after losing db-3");
        Run settled = playbook(work, out);
        settled.changed().forEach((vm, n) -> assertEquals(0, n, "idempotent after the move on " + vm));

        // A tree an interrupted compile left behind is refused.
        Files.writeString(out.resolve(".meshc-journal"), "R manifest.json\n");
        Run refused = playbook(work, out);
        assertTrue(refused.code() != 0 && refused.out().contains("interrupted compile"), refused.out());
        // so is one killed before its commit: temp files (and new directories holding only them) may be there
        Files.delete(out.resolve(".meshc-journal"));
        Files.writeString(out.resolve(".meshc-dirty"), "");
        Run dirty = playbook(work, out);
        assertTrue(dirty.code() != 0 && dirty.out().contains("interrupted compile"), dirty.out());
    }

    static String sorted(String lines) {
        return lines.lines().sorted((a, b) -> order(a) - order(b)).reduce("", (a, b) -> a + b + "\n");
    }

    static int order(String h) {
        return List.of("enable", "apply").indexOf(h);
    }

    static void assertArrayEqualsFile(Path a, Path b) throws IOException {
        org.junit.jupiter.api.Assertions.assertArrayEquals(Files.readAllBytes(a), Files.readAllBytes(b));
    }
}
