package dev.meshc.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.meshc.diag.Code;
import dev.meshc.diag.Diagnostic;
import dev.meshc.diag.SourceSpan;
import java.util.Map;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import org.junit.jupiter.api.Test;

class ReporterTest {

    private static String shown(String source, int line, int column, String message) {
        Reporter r = new Reporter(Reporter.Format.text, false, Map.of("f.yml", source));
        return r.text(Diagnostic.error(Code.R402, new SourceSpan("f.yml", line, column), message));
    }

    @Test
    void nothingThatCouldDriveATerminalIsEchoed() {
        String hostile = "name: \u001b]0;pwned\u0007 \u009b31m \u202eevil\u202c\ttab\u0000";
        assertEquals("f.yml:2:7: error[R402]: x ?[2J y\n"
                        + "    name: ?]0;pwned? ?31m ?evil?\u2192tab?\n" // a tab is shown as an arrow, one column wide
                        + "          ^\n",
                shown("version: 1\n" + hostile + "\n", 2, 7, "x \u001b[2J y"));
    }

    @Test
    void crlfLineEndsAndTheByteOrderMarkAreNotShown() {
        assertEquals("f.yml:1:1: error[R402]: m\n    version: 1\n    ^\n", shown("\ufeffversion: 1\r\nvms: {}\r\n", 1, 1, "m"));
        assertEquals("f.yml:2:1: error[R402]: m\n    vms: {}\n    ^\n", shown("\ufeffversion: 1\r\nvms: {}", 2, 1, "m"));
    }

    @Test
    void aLineBeyondTheFileIsNotShown() {
        assertEquals("f.yml:9:1: error[R402]: m\n", shown("a\nb\n", 9, 1, "m"));
    }

    @Provide
    Arbitrary<String> sources() {
        return Arbitraries.strings().withChars("ab\n").ofMaxLength(60);
    }

    /** The line index shows the same line as splitting the file would, for every line of any file. */
    @Property(tries = 500)
    void showsTheLineSplittingWouldGive(@ForAll("sources") String src) {
        String[] lines = src.split("\n", -1);
        for (int l = 1; l <= lines.length; l++) {
            assertEquals("f.yml:" + l + ":1: error[R402]: m\n    " + lines[l - 1] + "\n    ^\n", shown(src, l, 1, "m"), "line " + l);
        }
    }
}
