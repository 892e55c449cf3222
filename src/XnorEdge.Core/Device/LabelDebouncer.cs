namespace XnorEdge.Device
{
    /// <summary>
    /// Turns a stream of per-frame predictions into stable decisions: a label becomes the stable one after
    /// it has been the prediction of <see cref="Required"/> consecutive frames, each with a confidence of at
    /// least <see cref="MinConfidence"/> (a frame below it breaks the run). <see cref="Update"/> returns true
    /// exactly when the stable label changes: the moment to act (log it, pulse a pin). nanoFramework-safe.
    /// </summary>
    public sealed class LabelDebouncer
    {
        public readonly int Required;
        public readonly float MinConfidence;

        /// <summary>The current stable label, or -1 before the first decision.</summary>
        public int Stable = -1;
        /// <summary>The label of the current run and its length.</summary>
        public int Candidate = -1;
        public int Run;

        public LabelDebouncer(int required, float minConfidence)
        {
            Required = required < 1 ? 1 : required;
            MinConfidence = minConfidence;
        }

        /// <summary>Adds one prediction; true when it makes <paramref name="label"/> the new stable label.</summary>
        public bool Update(int label, float confidence)
        {
            if (label < 0 || !(confidence >= MinConfidence))
            {
                Candidate = -1;
                Run = 0;
                return false;
            }
            if (label == Candidate)
            {
                if (Run < Required) Run++;
            }
            else
            {
                Candidate = label;
                Run = 1;
            }
            if (Run >= Required && Stable != label)
            {
                Stable = label;
                return true;
            }
            return false;
        }

        /// <summary>Forgets the run and the stable label.</summary>
        public void Reset()
        {
            Stable = -1;
            Candidate = -1;
            Run = 0;
        }
    }
}
