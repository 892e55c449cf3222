using XnorEdge.Format;
using XnorEdge.Runtime;

namespace XnorEdge.Cli;

/// <summary>A model file loaded, validated and planned: what every command starts from.</summary>
public sealed class LoadedModel
{
    private LoadedModel(string path, Model model, Interpreter interpreter)
    {
        Path = path;
        Model = model;
        Interpreter = interpreter;
    }

    /// <summary>The path as the user gave it (error messages name it so).</summary>
    public string Path { get; }

    public Model Model { get; }

    public Interpreter Interpreter { get; }

    /// <summary>
    /// Loads <paramref name="path"/> with <see cref="ModelFile.Load"/> and plans its arena. Every failure
    /// is a <see cref="CliException"/> or a <see cref="ModelFormatException"/> naming the file.
    /// </summary>
    public static LoadedModel Open(string path)
    {
        if (Directory.Exists(path)) throw new CliException($"{path}: is a directory, not a model file");
        Model model;
        try
        {
            model = ModelFile.Load(path);
        }
        catch (FileNotFoundException)
        {
            throw new CliException($"{path}: no such model file");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new CliException($"{path}: cannot read the model: {e.Message}");
        }
        Interpreter interpreter;
        try
        {
            interpreter = new Interpreter(model);
        }
        catch (ModelFormatException e) when (e.File is null)
        {
            throw e.InFile(path);
        }
        return new LoadedModel(path, model, interpreter);
    }
}
