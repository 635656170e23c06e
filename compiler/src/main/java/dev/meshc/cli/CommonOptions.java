package dev.meshc.cli;

import picocli.CommandLine.Option;

/** Options every command takes. */
final class CommonOptions {
    @Option(names = "--format", paramLabel = "text|json|github", description = "Diagnostics format: text (file:line:col: error[CODE]: message), json, or github (Actions annotations). Default: ${DEFAULT-VALUE}.")
    Reporter.Format format = Reporter.Format.text;

    @Option(names = {"-q", "--quiet"}, description = "Print nothing but errors.")
    boolean quiet;

    @Option(names = "--debug", description = "Show stack traces of internal errors.")
    boolean debug;
}
