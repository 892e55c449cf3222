namespace XnorEdge.Simulation;

/// <summary>A documented number: the value and where it comes from.</summary>
public sealed record Sourced(long Value, string Source);

/// <summary>
/// A nanoFramework board the simulator budgets for. Every number carries its source (see cost-table.md,
/// "Targets"); the speed range is relative to the plain ESP32 at 240 MHz with its heap in internal SRAM,
/// the board cost-table.md section 6.2 relates to the measured host (40x to 130x in the interpreter, 70x to 120x in C:
/// derived, not yet measured on a board).
/// </summary>
public sealed record Target(
    string Id,
    string Board,
    string Firmware,
    double ClockMHz,
    Sourced Flash,
    Sourced Deployment,
    string StorageDrive,
    Sourced Storage,
    Sourced Heap,
    double RelativeSpeedLow,
    double RelativeSpeedHigh,
    string SpeedSource);

public static class Targets
{
    /// <summary>nanoCLR's largest object: 0xFFFF heap blocks of 12 bytes (HB_MaxSize, src/CLR/Include/nanoCLR_Runtime__HeapBlock.h).</summary>
    public const long MaxObjectBytes = 0xFFFFL * 12;

    private const string Esp32Partitions4Mb = "nf-interpreter targets/ESP32/_IDF/esp32/partitions_nanoclr_4mb.csv";
    private const string Esp32S3Partitions8Mb = "nf-interpreter targets/ESP32/_IDF/esp32s3/partitions_nanoclr_8mb.csv";
    private const string Stm32Linker = "nf-interpreter targets/ChibiOS/ST_STM32F769I_DISCOVERY/nanoCLR/STM32F76xx_CLR.ld";

    public static readonly Target[] All =
    {
        new("esp32", "ESP32-WROOM-32 (4 MB flash, no PSRAM)", "ESP32_REV3", 240,
            new(4L << 20, "module flash size"),
            new(0x1C0000, Esp32Partitions4Mb + ": 'deploy' partition, 1,792 KiB for all managed assemblies"),
            "I:",
            new(0x40000, Esp32Partitions4Mb + ": 'config' littlefs partition (I:), 256 KiB shared with network config and certificates"),
            new(100 * 1024, "firmware-tools/XnorEdge.Simulator/cost-table.md section 6.3 (about 100 KB, a working figure, not measured on a board); targets/ESP32/_nanoCLR/Memory.cpp gives the managed heap all free internal RAM "
                + "less 100 KiB for ESP-IDF, capped by the largest free block"),
            1.0, 1.0, "the reference board: 40x to 130x slower than the measured host in the interpreter, 70x to 120x in C (firmware-tools/XnorEdge.Simulator/cost-table.md section 6.2: derived from CoreMark and a board observation, not yet measured on a board)"),
        new("esp32-psram", "ESP32-WROVER (4 MB flash, PSRAM, 4 MiB of it mapped)", "ESP32_PSRAM_REV3", 240,
            new(4L << 20, "module flash size"),
            new(0x1C0000, Esp32Partitions4Mb + ": 'deploy' partition, 1,792 KiB"),
            "I:",
            new(0x40000, Esp32Partitions4Mb + ": 'config' littlefs partition (I:), 256 KiB"),
            new((4L << 20) - (256L << 10), "targets/ESP32/_nanoCLR/Memory.cpp puts the managed heap in the largest free PSRAM block "
                + "(ESP32_RESERVE_SPIRAM_IDF_ALLOCATION_BYTES defaults to 0); 4 MiB less an assumed 256 KiB ESP-IDF uses from PSRAM "
                + "(the firmware logs the real figure at boot: 'Managed heap allocated')"),
            0.5, 1.0, "assumption: heap (arena, stack frames) in PSRAM behind the 32 KB flash/PSRAM cache costs up to 2x"),
        new("esp32-s3", "ESP32-S3-DevKitC-1-N8R8 (8 MB flash, 8 MB octal PSRAM)", "ESP32_S3_OCTAL", 240,
            new(8L << 20, "module flash size"),
            new(0x2E0000, Esp32S3Partitions8Mb + ": 'deploy' partition, 2,944 KiB"),
            "I:",
            new(0x200000, Esp32S3Partitions8Mb + ": 'config' littlefs partition (I:), 2 MiB"),
            new((8L << 20) - (256L << 10), "targets/ESP32/_nanoCLR/Memory.cpp (heap in the largest free PSRAM block); 8 MiB less an "
                + "assumed 256 KiB used by ESP-IDF"),
            0.6, 1.4, "LX7 vs LX6 at the same clock: 1.0x to 1.4x (Switch Science's ESP32 vs ESP32-S3 memory benchmark: S3 30-40% "
                + "faster with PSRAM); times a PSRAM heap penalty of up to 1/0.6 (assumption; octal PSRAM)"),
        new("stm32f769", "STM32F769I-DISCO (2 MB flash, 16 MB SDRAM)", "ST_STM32F769I_DISCOVERY", 216,
            new(2L << 20, "STM32F769NI flash size"),
            new(1280L << 10, Stm32Linker + ": 'deployment' region 0x080C0000, 1280k (Device_BlockStorage.c: 5 blocks of 256 KiB)"),
            "none (SD card D:)",
            new(0, "no internal storage drive (target_FileSystem.cpp mounts the SD card and USB mass storage only): ship the model as a "
                + "resource, or copy model.xnor to a FAT SD card by hand"),
            new(13631488, Stm32Linker + ": CLR_MANAGED_HEAP_RAM is ext_ram, 13,631,488 bytes of external SDRAM"),
            0.75, 1.5, "Cortex-M7 at 216 MHz: ST quotes 462 DMIPS and 1082 CoreMark for the STM32F7 (2.14 DMIPS/MHz) against about "
                + "1.25 DMIPS/MHz per LX6 core (Espressif's 600 MIPS for two cores at 240 MHz): 1.5x; down to half of that with the "
                + "heap in SDRAM behind a 16 KB data cache (assumption)"),
    };

    public static readonly string[] Ids = All.Select(t => t.Id).ToArray();

    public static Target Get(string id) => All.First(t => t.Id == id);
}
