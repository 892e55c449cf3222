using System.Resources;

namespace XnorEdge.Nano.Sample
{
    /// <summary>
    /// The app's resources (Resources.resx, written by `xnoredge emit model.xnor --format resx -o Resources.resx`),
    /// in the shape nanoFramework's resource code generator gives them, kept by hand so that a command-line build
    /// needs no Visual Studio custom tool. The id is the one the metadata processor derives from the resource
    /// name "Model" (`xnoredge emit` prints it); tests/XnorEdge.Cli.Tests/NanoSampleTests.cs checks it.
    /// </summary>
    internal static class ModelResources
    {
        private static ResourceManager s_manager;

        internal static ResourceManager Manager
        {
            get
            {
                if (s_manager == null) s_manager = new ResourceManager("XnorEdge.Nano.Sample.Resources", typeof(ModelResources).Assembly);
                return s_manager;
            }
        }

        internal enum BinaryResources : short
        {
            Model = 30387,
        }
    }
}
