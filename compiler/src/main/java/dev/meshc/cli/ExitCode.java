package dev.meshc.cli;

/** The contract's exit codes (DESIGN §4). */
public final class ExitCode {
    public static final int OK = 0;
    public static final int INVALID = 1;
    public static final int USAGE = 2;
    public static final int DRIFT = 3;
    public static final int IO = 4;
    /** trace: the flow is not delivered (the verdict names why); verify: the files' reachability differs from the inventory's intent. */
    public static final int NOT_DELIVERED = 5;
    /** A bug in meshc: never expected; the message asks for a report. */
    public static final int INTERNAL = 70;

    private ExitCode() {
    }
}
