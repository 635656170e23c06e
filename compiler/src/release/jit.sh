# meshc's JIT choice, sourced by both launchers (./meshc in a clone, bin/meshc in a release) with the
# command's arguments: meshc_jit "$@" sets the array meshc_jit_opts.
#
# Tiered compilation spends the second of 2 cores on C2, which pays off only in long runs. A command that
# renders the whole fleet (compile, check, plan without --host) keeps C2: with C1 alone a full compile of
# 1,000 VMs is 45% slower. Every other command (validate, compile --host, vip, explain, graph, ...) ends
# before C2's code pays for itself and runs 15-25% faster with C1 alone. The inventory's size does not
# predict it (a 1 MB inventory of 1,000 VMs renders 30% slower with C1, a 0.6 MB one of 200 VMs 20%
# faster), so the choice is by command. Measured side by side by bench/run; docs/performance.md.
#
# Where C2 runs, it runs later than by default: a method is compiled by C2 after 10 times the invocations
# and loop iterations. C2 spent 5.9 s of CPU (-XX:+CITime) on a full compile of 1,000 VMs that took 8.5 s on
# 2 cores, compiling 757 methods, many of them warm rather than hot; with these thresholds it compiles 585
# in 3.3 s, and full compiles of 200, 1,000 and 2,000 VMs take 11%, 6% and 2% less time (alternating runs).
meshc_jit() {
  meshc_jit_opts=(-XX:TieredStopAtLevel=1)
  case "${1:-}" in
    compile|check|plan)
      local a
      for a in "$@"; do
        case "$a" in --host|--host=*) return ;; esac
      done
      meshc_jit_opts=(-XX:Tier4InvocationThreshold=50000 -XX:Tier4MinInvocationThreshold=6000
        -XX:Tier4CompileThreshold=150000 -XX:Tier4BackEdgeThreshold=400000) ;;
  esac
}
