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
    /// Loads <paramref name="path"/> with <see cref="ModelFile.Load(string, XnorEdge.Operators.ILayerFactory?)"/> (the one
    /// model reader, whose I/O errors name the file) and plans its arena. Every failure is an <see cref="IOException"/>
    /// or a <see cref="ModelFormatException"/> naming the file.
    /// </summary>
    public static LoadedModel Open(string path)
    {
        Model model = ModelFile.Load(path);
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
