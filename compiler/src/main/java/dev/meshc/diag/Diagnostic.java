package dev.meshc.diag;

import java.util.Comparator;

/** One problem found in the input: a value, printed in one place (the CLI's reporter). */
public record Diagnostic(Severity severity, Code code, SourceSpan at, String message) {

    public static final Comparator<Diagnostic> ORDER = Comparator.comparing(Diagnostic::at)
            .thenComparing(d -> d.code().name())
            .thenComparing(Diagnostic::message);

    public Diagnostic {
        if (severity != code.severity()) throw new IllegalArgumentException(code + " is a " + code.severity().label() + ", not a " + severity.label());
    }

    /** A diagnostic with its code's severity. */
    public static Diagnostic of(Code code, SourceSpan at, String message) {
        return new Diagnostic(code.severity(), code, at, message);
    }

    public static Diagnostic error(Code code, SourceSpan at, String message) {
        return new Diagnostic(Severity.ERROR, code, at, message);
    }

    public static Diagnostic warning(Code code, SourceSpan at, String message) {
        return new Diagnostic(Severity.WARNING, code, at, message);
    }

    public boolean isError() {
        return severity == Severity.ERROR;
    }

    /** {@code file:line:col: error[CODE]: message} */
    @Override
    public String toString() {
        return at + ": " + severity.label() + "[" + code.name() + "]: " + message;
    }
}
