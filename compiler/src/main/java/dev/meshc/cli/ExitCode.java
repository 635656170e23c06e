package dev.meshc.cli;

/** The exit codes of docs/design.md ("Command line"; DesignDocTest checks that table against these). */
public final class ExitCode {
    public static final int OK = 0;
    public static final int INVALID = 1;
    public static final int USAGE = 2;
    public static final int DRIFT = 3;
    public static final int IO = 4;
    /** A bug in meshc: never expected; the message asks for a report. */
    public static final int INTERNAL = 70;

    private ExitCode() {
    }
}
