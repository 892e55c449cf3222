global using Xunit;
global using Xunit.Abstractions;
global using XnorEdge.Vision.Frames;
global using XnorEdge.Vision.Preprocessing;
global using XnorEdge.Vision.Sources;
global using XnorEdge.Vision.Pipeline;
global using XnorEdge.Vision.Actions;
