package dev.meshc.docs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.meshc.TestSupport;
import dev.meshc.model.AddressLayout;
import dev.meshc.model.Cidr;
import dev.meshc.model.Ipv4;
import dev.meshc.model.Network;
import dev.meshc.model.VipRange;
import dev.meshc.plan.VipAllocator;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * docs/design.md states numbers; this reads them from the document and checks them against the code,
 * so the document cannot drift: the worked address examples, the VIP examples and the exit codes.
 */
class DesignDocTest {
    static final Path DOC = TestSupport.root().resolve("docs/design.md");

    /** The data rows of the first Markdown table after {@code marker}, split into trimmed cells. */
    static List<List<String>> table(String marker) {
        List<String> lines = TestSupport.read(DOC).lines().toList();
        int i = lines.indexOf(marker);
        assertTrue(i >= 0, "docs/design.md has no line '" + marker + "'");
        while (!lines.get(i).startsWith("|")) i++;
        List<List<String>> rows = new ArrayList<>();
        for (i += 2; i < lines.size() && lines.get(i).startsWith("|"); i++) {
            List<String> cells = new ArrayList<>();
            for (String c : lines.get(i).substring(1).split("\\|")) cells.add(c.strip().replace("`", ""));
            rows.add(cells);
        }
        assertFalse(rows.isEmpty(), marker);
        return rows;
    }

    @Test
    void theWorkedAddressExamplesAreWhatTheCodeComputes() {
        List<List<String>> rows = table("Worked examples:");
        assertTrue(rows.size() >= 2, "the two examples of the original contract at least");
        for (List<String> r : rows) {
            AddressLayout l = new AddressLayout(Cidr.parse(r.get(1)), Cidr.parse(r.get(0)));
            int vm = Ipv4.parse(r.get(2));
            int k = Integer.parseInt(r.get(3));
            assertEquals(r.get(4), Ipv4.format(l.container(vm, k)), r.toString());
            assertEquals(r.get(5), Ipv4.format(l.gateway(vm)), r.toString());
            assertEquals(Integer.parseInt(r.get(6).replace(",", "")), l.capacity(), r.toString());
            var decoded = l.decode(l.container(vm, k)).orElseThrow();
            assertEquals(vm, decoded.vmUnderlay());
            assertEquals(k, decoded.index());
        }
    }

    @Test
    void theVipExamplesAreWhatTheCodeComputes() {
        VipRange usable = new VipRange(Network.DEFAULT_VIP, Network.defaultReserved(Network.DEFAULT_VIP));
        for (List<String> r : table("VIP examples with the default range:")) {
            assertEquals(r.get(1), Ipv4.format(VipAllocator.vip(usable, r.get(0), 0)), r.get(0));
            var cli = TestSupport.meshc("vip", r.get(0));
            assertEquals(r.get(1) + "\n", cli.out(), "meshc vip " + r.get(0));
        }
    }

    @Test
    void theExitCodesAreExitCode() throws IllegalAccessException {
        TreeSet<Integer> documented = new TreeSet<>();
        for (List<String> r : table("Exit codes:")) documented.add(Integer.parseInt(r.get(0)));
        TreeSet<Integer> defined = new TreeSet<>();
        for (var f : dev.meshc.cli.ExitCode.class.getFields()) if (f.getType() == int.class) defined.add(f.getInt(null));
        assertEquals(defined, documented);
    }

    @Test
    void noSourceCitesTheSharedFolder() throws IOException {
        List<String> citing = new ArrayList<>();
        for (String dir : List.of("compiler/src/main", "README.md", "examples")) {
            try (Stream<Path> s = Files.walk(TestSupport.root().resolve(dir))) {
                s.filter(Files::isRegularFile).forEach(p -> {
                    String text = TestSupport.read(p);
                    if (text.contains("DESIGN §") || text.contains("DESIGN.md")) citing.add(p.toString());
                });
            }
        }
        assertEquals(List.of(), citing, "cite docs/design.md, which a clone has");
    }
}
