namespace XnorEdge.Operators
{
    /// <summary>
    /// Builds the operator for a layer record. The host runtime passes its own factory to substitute
    /// optimised kernels; returning null falls back to the portable scalar operator.
    /// </summary>
    public interface ILayerFactory
    {
        Layer Create(LayerContext ctx);
    }
}
