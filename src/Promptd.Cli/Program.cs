using Promptd.Cli;

// The `promptd` command: one verb per file under Commands/.
return await CommandLine.RunAsync(args);
