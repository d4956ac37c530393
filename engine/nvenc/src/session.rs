//! The driver's side: an H.264 session on `nvidia-video-codec-sdk` (its safe
//! layer only), implementing [`EncodeSession`].
//!
//! Input pictures live in CUDA device memory the helper allocates at a pitch
//! of its choosing and registers with the session, so the pitch NVENC reads
//! at is the one the frames were copied at. The session is opened without
//! picture-type decision, so the encode loop decides which pictures are IDR;
//! `repeatSPSPPS` puts the parameter sets in front of every IDR picture, and
//! no B-frames, one GOP length and `idrPeriod` equal to it keep every GOP
//! closed. Rate control is constant quality (VBR with a target quality and no
//! bitrate cap), the level the engine maps from x264's CRF.

use std::ffi::c_void;
use std::sync::Arc;

use cudarc::driver::{CudaContext, CudaSlice, CudaStream, DevicePtr};
use nvidia_video_codec_sdk::sys::nvEncodeAPI::{
    GUID, NV_ENC_BUFFER_FORMAT, NV_ENC_CODEC_CONFIG, NV_ENC_CODEC_H264_GUID, NV_ENC_CONFIG_H264, NV_ENC_INPUT_RESOURCE_TYPE,
    NV_ENC_PARAMS_RC_MODE, NV_ENC_PIC_TYPE, NV_ENC_PRESET_P1_GUID, NV_ENC_PRESET_P2_GUID, NV_ENC_PRESET_P3_GUID,
    NV_ENC_PRESET_P4_GUID, NV_ENC_PRESET_P5_GUID, NV_ENC_PRESET_P6_GUID, NV_ENC_PRESET_P7_GUID, NV_ENC_TUNING_INFO,
};
use nvidia_video_codec_sdk::{Bitstream, EncodePictureParams, Encoder, EncoderInitParams, ErrorKind, RegisteredResource, Session};

use motionrender_nvenc::params::SessionParams;
use motionrender_nvenc::picture::PictureLayout;
use motionrender_nvenc::stream::{EncodeSession, PictureKind, SessionError, Submitted};

/// Input/output buffer pairs in the ring: enough for a session without
/// lookahead, with room for the driver to hold a few pictures back.
pub const SLOTS: usize = 8;
/// Row alignment of the input pictures.
const PITCH_ALIGNMENT: u32 = 256;

fn failed(what: &str, error: impl std::fmt::Display) -> SessionError {
    SessionError(format!("{what}: {error}"))
}

/// An opened NVENC encoder on CUDA device 0, before its session starts.
pub struct Device {
    encoder: Encoder,
    stream: Arc<CudaStream>,
    pub name: String,
}

impl std::fmt::Debug for Device {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Device").field("name", &self.name).finish_non_exhaustive()
    }
}

impl Device {
    /// Opens CUDA device 0 and an NVENC encoder on it, checking that it
    /// encodes H.264 from NV12.
    pub fn open() -> Result<Self, SessionError> {
        let context = CudaContext::new(0).map_err(|e| failed("CUDA device 0", e))?;
        let name = context.name().unwrap_or_else(|_| "CUDA device 0".to_owned());
        let stream = context.default_stream();
        let encoder = Encoder::initialize_with_cuda(context).map_err(|e| failed("opening an NVENC encoder", describe(&e)))?;
        let codecs = encoder.get_encode_guids().map_err(|e| failed("listing codecs", describe(&e)))?;
        if !codecs.contains(&NV_ENC_CODEC_H264_GUID) {
            return Err(SessionError(format!("{name} has no H.264 encoder")));
        }
        let formats = encoder.get_supported_input_formats(NV_ENC_CODEC_H264_GUID).map_err(|e| failed("listing input formats", describe(&e)))?;
        if !formats.contains(&NV_ENC_BUFFER_FORMAT::NV_ENC_BUFFER_FORMAT_NV12) {
            return Err(SessionError(format!("{name} does not take NV12 input")));
        }
        Ok(Self { encoder, stream, name })
    }

    /// Starts an H.264 session for `params`.
    pub fn start(self, params: &SessionParams) -> Result<(Session, Arc<CudaStream>), SessionError> {
        let preset = preset_guid(params.preset);
        let tuning = NV_ENC_TUNING_INFO::NV_ENC_TUNING_INFO_HIGH_QUALITY;
        let mut preset_config =
            self.encoder.get_preset_config(NV_ENC_CODEC_H264_GUID, preset, tuning).map_err(|e| failed("reading the preset", describe(&e)))?;
        let config = &mut preset_config.presetCfg;
        config.gopLength = params.gop;
        config.frameIntervalP = 1; // no B-frames
        config.rcParams.rateControlMode = NV_ENC_PARAMS_RC_MODE::NV_ENC_PARAMS_RC_VBR;
        config.rcParams.averageBitRate = 0;
        config.rcParams.maxBitRate = 0;
        config.rcParams.targetQuality = params.cq;
        config.rcParams.lookaheadDepth = 0;
        // chromaFormatIDC 1: 4:2:0.
        let mut h264 = NV_ENC_CONFIG_H264 { idrPeriod: params.gop, chromaFormatIDC: 1, ..Default::default() };
        h264.set_repeatSPSPPS(1);
        config.encodeCodecConfig = NV_ENC_CODEC_CONFIG { h264Config: h264 };
        let mut init = EncoderInitParams::new(NV_ENC_CODEC_H264_GUID, params.width, params.height);
        init.preset_guid(preset).tuning_info(tuning).framerate(params.fps_num, params.fps_den).encode_config(config);
        let session = self
            .encoder
            .start_session(NV_ENC_BUFFER_FORMAT::NV_ENC_BUFFER_FORMAT_NV12, init)
            .map_err(|e| failed("starting the session", describe(&e)))?;
        Ok((session, self.stream))
    }
}

fn preset_guid(preset: u8) -> GUID {
    match preset {
        1 => NV_ENC_PRESET_P1_GUID,
        2 => NV_ENC_PRESET_P2_GUID,
        3 => NV_ENC_PRESET_P3_GUID,
        5 => NV_ENC_PRESET_P5_GUID,
        6 => NV_ENC_PRESET_P6_GUID,
        7 => NV_ENC_PRESET_P7_GUID,
        _ => NV_ENC_PRESET_P4_GUID,
    }
}

/// The driver's status with what it means for a render service.
pub fn describe(error: &nvidia_video_codec_sdk::EncodeError) -> String {
    match error.kind() {
        ErrorKind::NoEncodeDevice => format!("this GPU has no NVENC encoder (NV_ENC_ERR_NO_ENCODE_DEVICE): {error}"),
        ErrorKind::OutOfMemory => format!("no free NVENC session or GPU memory: {error}"),
        _ => error.to_string(),
    }
}

/// A running session with its ring of registered inputs and bitstreams.
pub struct DriverSession<'s> {
    session: &'s Session,
    stream: Arc<CudaStream>,
    layout: PictureLayout,
    // Registrations drop before the device memory they point into.
    inputs: Vec<RegisteredResource<'s, ()>>,
    outputs: Vec<Bitstream<'s>>,
    pictures: Vec<CudaSlice<u8>>,
}

impl std::fmt::Debug for DriverSession<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DriverSession").field("layout", &self.layout).finish_non_exhaustive()
    }
}

impl<'s> DriverSession<'s> {
    /// Allocates and registers the ring's buffers.
    pub fn new(session: &'s Session, stream: Arc<CudaStream>, params: &SessionParams) -> Result<Self, SessionError> {
        let pitch = PictureLayout::aligned_pitch(params.width, PITCH_ALIGNMENT);
        let layout = PictureLayout::new(params.width, params.height, pitch).map_err(|e| failed("the picture", e))?;
        let mut pictures = Vec::with_capacity(SLOTS);
        let mut inputs = Vec::with_capacity(SLOTS);
        let mut outputs = Vec::with_capacity(SLOTS);
        for _ in 0..SLOTS {
            let picture = stream.alloc_zeros::<u8>(layout.buffer_len()).map_err(|e| failed("allocating an input picture", e))?;
            let address = {
                let (pointer, _synced) = picture.device_ptr(&stream);
                pointer as usize as *mut c_void
            };
            let registered = session
                .register_generic_resource((), NV_ENC_INPUT_RESOURCE_TYPE::NV_ENC_INPUT_RESOURCE_TYPE_CUDADEVICEPTR, address, pitch)
                .map_err(|e| failed("registering an input picture", describe(&e)))?;
            pictures.push(picture);
            inputs.push(registered);
            outputs.push(session.create_output_bitstream().map_err(|e| failed("creating a bitstream buffer", describe(&e)))?);
        }
        Ok(Self { session, stream, layout, inputs, outputs, pictures })
    }
}

impl EncodeSession for DriverSession<'_> {
    fn slots(&self) -> usize {
        SLOTS
    }

    fn layout(&self) -> PictureLayout {
        self.layout
    }

    fn upload(&mut self, slot: usize, nv12: &[u8]) -> Result<(), SessionError> {
        self.stream.memcpy_htod(nv12, &mut self.pictures[slot]).map_err(|e| failed("copying the picture to the GPU", e))?;
        self.stream.synchronize().map_err(|e| failed("waiting for the copy", e))
    }

    fn submit(&mut self, slot: usize, frame: u64, kind: PictureKind) -> Result<Submitted, SessionError> {
        let picture_type = match kind {
            PictureKind::Idr => NV_ENC_PIC_TYPE::NV_ENC_PIC_TYPE_IDR,
            PictureKind::P => NV_ENC_PIC_TYPE::NV_ENC_PIC_TYPE_P,
        };
        let params = EncodePictureParams { input_timestamp: frame, picture_type, codec_params: None };
        match self.session.encode_picture(&mut self.inputs[slot], &mut self.outputs[slot], params) {
            Ok(()) => Ok(Submitted::Complete),
            Err(e) if e.kind() == ErrorKind::NeedMoreInput => Ok(Submitted::NeedMoreInput),
            Err(e) => Err(failed("encoding a picture", describe(&e))),
        }
    }

    fn collect(&mut self, slot: usize, out: &mut Vec<u8>) -> Result<(), SessionError> {
        let lock = self.outputs[slot].lock().map_err(|e| failed("reading a bitstream", describe(&e)))?;
        out.extend_from_slice(lock.data());
        Ok(())
    }

    fn end_of_stream(&mut self) -> Result<(), SessionError> {
        self.session.end_of_stream().map_err(|e| failed("flushing the session", describe(&e)))
    }
}
