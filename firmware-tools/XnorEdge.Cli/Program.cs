return XnorEdge.Cli.Cli.Run(args, Console.Out, Console.Error);
