using System.CommandLine;
using System.Text.RegularExpressions;

namespace XnorEdge.Cli.Tests;

/// <summary>Every xnoredge command line in the READMEs and the frame protocol document parses (issue 16 #8: the protocol showed a usage error).</summary>
public class DocCommandLineTests
{
    public static TheoryData<string> Documents => new()
    {
        "README.md",
        "src/XnorEdge.Vision/README.md",
        "src/XnorEdge.Vision/Sources/frame-protocol.md",
        "src/XnorEdge.Vision/framing.md",
    };

    /// <summary>"xnoredge CMD ..." or "... XnorEdge.Cli -- CMD ..." up to the end of the line or the closing backtick.</summary>
    private static readonly Regex CommandLine = new(@"(?:(?<![\w-])xnoredge|XnorEdge\.Cli --)[ ]+(?<args>[a-z][^`\n|]*)", RegexOptions.Compiled);

    [Theory]
    [MemberData(nameof(Documents))]
    public void Every_command_line_in_the_document_parses(string document)
    {
        string text = File.ReadAllText(Path.Combine(RepoPaths.Root, document));
        RootCommand root = Cli.CreateRoot(new CliContext(new StringWriter(), new StringWriter()));
        var commands = root.Subcommands.Select(c => c.Name).ToHashSet();
        int checkedLines = 0;
        foreach (Match m in CommandLine.Matches(text))
        {
            string line = m.Groups["args"].Value.Trim().TrimEnd('\\').Trim();
            string[] args = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (args.Length == 0 || !commands.Contains(args[0])) continue; // prose ("xnoredge is ...")
            ParseResult parsed = root.Parse(args);
            Assert.True(parsed.Errors.Count == 0, $"{document}: \"xnoredge {line}\": {string.Join("; ", parsed.Errors.Select(e => e.Message))}");
            checkedLines++;
        }
        Assert.True(checkedLines > 0, $"{document}: no xnoredge command line found");
    }
}
