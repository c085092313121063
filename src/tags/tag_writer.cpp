// TagLib tag writer (tag_writer.hpp). The edit happens on a copy next to the file, which is then
// renamed over it: a kill at any moment leaves either the old or the new file, never a half one.
#include "tags/tag_writer.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <taglib/aifffile.h>
#include <taglib/flacfile.h>
#include <taglib/generalencapsulatedobjectframe.h>
#include <taglib/id3v2tag.h>
#include <taglib/infotag.h>
#include <taglib/mp4file.h>
#include <taglib/mp4tag.h>
#include <taglib/mpegfile.h>
#include <taglib/opusfile.h>
#include <taglib/textidentificationframe.h>
#include <taglib/vorbisfile.h>
#include <taglib/wavfile.h>
#include <taglib/xiphcomment.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>

#include "tags/serato.hpp"

namespace harmony::tags {

namespace fs = std::filesystem;

namespace {

constexpr const char* kMarker = "HARMONY_COMMENT_PREFIX";  // the comment prefix Harmony wrote last

std::string bpm_text(double bpm) {
    const double r = std::round(bpm * 100.0) / 100.0;
    char buf[32];
    if (std::fabs(r - std::round(r)) < 1e-9)
        std::snprintf(buf, sizeof buf, "%.0f", r);
    else
        std::snprintf(buf, sizeof buf, "%.2f", r);
    std::string s(buf);
    if (s.find('.') != std::string::npos && s.back() == '0') s.pop_back();
    return s;
}

std::string utf8(const TagLib::String& s) {
    return s.to8Bit(true);
}
TagLib::String tl(const std::string& s) {
    return TagLib::String(s, TagLib::String::UTF8);
}

// Field access on one tag type, by the format's own field names.
class Editor {
public:
    virtual ~Editor() = default;
    virtual std::string get(const std::string& field) = 0;
    virtual void set(const std::string& field, const std::string& value) = 0;
    virtual bool save() = 0;
    /// Serato GEOB objects by name ("Serato BeatGrid"): the payload, "" when absent.
    virtual bool supports_geob() const { return false; }
    virtual std::string get_geob(const std::string&) { return {}; }
    virtual void set_geob(const std::string&, const std::string&) {}
};

class Id3Editor : public Editor {
public:
    explicit Id3Editor(TagLib::ID3v2::Tag* tag) : tag_(tag) {}
    std::string get(const std::string& field) override {
        if (field == "COMM") return utf8(tag_->comment());
        if (field.rfind("TXXX:", 0) == 0) {
            auto* f = TagLib::ID3v2::UserTextIdentificationFrame::find(tag_, tl(field.substr(5)));
            return (f && f->fieldList().size() > 1) ? utf8(f->fieldList()[1]) : "";
        }
        const auto& m = tag_->frameListMap();
        auto it = m.find(TagLib::ByteVector(field.c_str()));
        return (it == m.end() || it->second.isEmpty()) ? "" : utf8(it->second.front()->toString());
    }
    void set(const std::string& field, const std::string& value) override {
        if (field == "COMM") {
            tag_->setComment(tl(value));
            return;
        }
        if (field.rfind("TXXX:", 0) == 0) {
            const std::string desc = field.substr(5);
            if (auto* f = TagLib::ID3v2::UserTextIdentificationFrame::find(tag_, tl(desc))) tag_->removeFrame(f);
            if (value.empty()) return;
            auto* f = new TagLib::ID3v2::UserTextIdentificationFrame(TagLib::String::UTF8);
            f->setDescription(tl(desc));
            f->setText(tl(value));
            tag_->addFrame(f);
            return;
        }
        tag_->removeFrames(TagLib::ByteVector(field.c_str()));
        auto* f = new TagLib::ID3v2::TextIdentificationFrame(TagLib::ByteVector(field.c_str()), TagLib::String::UTF8);
        f->setText(tl(value));
        tag_->addFrame(f);
    }
    bool supports_geob() const override { return true; }
    TagLib::ID3v2::GeneralEncapsulatedObjectFrame* find_geob(const std::string& name) {
        for (auto* f : tag_->frameList("GEOB"))
            if (auto* g = dynamic_cast<TagLib::ID3v2::GeneralEncapsulatedObjectFrame*>(f);
                g && g->description() == tl(name))
                return g;
        return nullptr;
    }
    std::string get_geob(const std::string& name) override {
        auto* g = find_geob(name);
        if (!g) return {};
        const auto& b = g->object();
        return std::string(b.data(), b.size());
    }
    void set_geob(const std::string& name, const std::string& payload) override {
        if (auto* g = find_geob(name)) tag_->removeFrame(g);
        auto* g = new TagLib::ID3v2::GeneralEncapsulatedObjectFrame();
        g->setTextEncoding(TagLib::String::Latin1);
        g->setMimeType("application/octet-stream");
        g->setFileName("");
        g->setDescription(TagLib::String(name, TagLib::String::Latin1));
        g->setObject(TagLib::ByteVector(payload.data(), static_cast<unsigned>(payload.size())));
        tag_->addFrame(g);
    }
    TagLib::ID3v2::Version version() const {
        return tag_->header()->majorVersion() == 3 ? TagLib::ID3v2::v3 : TagLib::ID3v2::v4;
    }

protected:
    TagLib::ID3v2::Tag* tag_;
};

template <typename File>
class Id3FileEditor : public Id3Editor {
public:
    Id3FileEditor(File& file, TagLib::ID3v2::Tag* tag) : Id3Editor(tag), file_(file) {}
    bool save() override;

private:
    File& file_;
};
template <>
bool Id3FileEditor<TagLib::MPEG::File>::save() {
    // Only the ID3v2 tag is written; ID3v1 and APE tags already there stay as they are.
    return file_.save(TagLib::MPEG::File::ID3v2, TagLib::File::StripNone, version(), TagLib::File::DoNotDuplicate);
}
template <>
bool Id3FileEditor<TagLib::RIFF::WAV::File>::save() {
    return file_.save(TagLib::RIFF::WAV::File::AllTags, TagLib::File::StripNone, version());
}
template <>
bool Id3FileEditor<TagLib::RIFF::AIFF::File>::save() {
    return file_.save(version());
}

class XiphEditor : public Editor {
public:
    XiphEditor(TagLib::File& file, TagLib::Ogg::XiphComment* tag) : file_(file), tag_(tag) {}
    std::string get(const std::string& field) override {
        const auto& m = tag_->fieldListMap();
        auto it = m.find(tl(field));
        return (it == m.end() || it->second.isEmpty()) ? "" : utf8(it->second.front());
    }
    void set(const std::string& field, const std::string& value) override {
        if (value.empty())
            tag_->removeFields(tl(field));
        else
            tag_->addField(tl(field), tl(value), true);
    }
    bool save() override { return file_.save(); }
    bool supports_geob() const override { return geob_; }
    std::string get_geob(const std::string& name) override {
        const std::string v = get(serato::vorbis_field(name));
        if (v.empty()) return {};
        return serato::payload_of_text_value(v).value_or("");
    }
    void set_geob(const std::string& name, const std::string& payload) override {
        set(serato::vorbis_field(name), serato::text_value(name, payload));
    }
    bool geob_ = false;  // FLAC only: Ogg's Serato layout differs

private:
    TagLib::File& file_;
    TagLib::Ogg::XiphComment* tag_;
};

class Mp4Editor : public Editor {
public:
    Mp4Editor(TagLib::MP4::File& file, TagLib::MP4::Tag* tag) : file_(file), tag_(tag) {}
    std::string get(const std::string& field) override {
        if (!tag_->contains(tl(field))) return "";
        const auto item = tag_->item(tl(field));
        if (field == "tmpo") return std::to_string(item.toInt());
        const auto list = item.toStringList();
        return list.isEmpty() ? "" : utf8(list.front());
    }
    void set(const std::string& field, const std::string& value) override {
        if (value.empty()) {
            tag_->removeItem(tl(field));
            return;
        }
        if (field == "tmpo")
            tag_->setItem(tl(field), TagLib::MP4::Item(std::atoi(value.c_str())));
        else
            tag_->setItem(tl(field), TagLib::MP4::Item(TagLib::StringList(tl(value))));
    }
    bool save() override { return file_.save(); }
    bool supports_geob() const override { return true; }
    std::string get_geob(const std::string& name) override {
        const std::string v = get(serato::mp4_atom(name));
        if (v.empty()) return {};
        return serato::payload_of_text_value(v).value_or("");
    }
    void set_geob(const std::string& name, const std::string& payload) override {
        set(serato::mp4_atom(name), serato::text_value(name, payload));
    }

private:
    TagLib::MP4::File& file_;
    TagLib::MP4::Tag* tag_;
};

struct FieldNames {
    std::string bpm, key, comment, marker;
};

// The opened file plus its editor; `format` names the tag type for reports.
struct Opened {
    std::unique_ptr<TagLib::File> file;
    std::unique_ptr<Editor> editor;
    FieldNames names;
    std::string format;
};

std::string lower_ext(const std::string& path) {
    std::string e = fs::path(path).extension().string();
    std::transform(e.begin(), e.end(), e.begin(), [](unsigned char c) { return std::tolower(c); });
    return e;
}

Result<Opened> open_for_tags(const std::string& path) {
    const std::string ext = lower_ext(path);
    Opened o;
    const FieldNames id3{"TBPM", "TKEY", "COMM", std::string("TXXX:") + kMarker};
    const FieldNames xiph{"BPM", "INITIALKEY", "COMMENT", kMarker};
    const FieldNames mp4{"tmpo", "----:com.apple.iTunes:initialkey",
                         "\xC2\xA9"
                         "cmt",
                         std::string("----:com.apple.iTunes:") + kMarker};
    const char* p = path.c_str();
    if (ext == ".mp3" || ext == ".mp2") {
        auto f = std::make_unique<TagLib::MPEG::File>(p, false);
        if (f->isValid()) {
            auto* tag = f->ID3v2Tag(true);
            o.editor = std::make_unique<Id3FileEditor<TagLib::MPEG::File>>(*f, tag);
            o.file = std::move(f);
            o.names = id3;
            o.format = "ID3v2 (MP3)";
        }
    } else if (ext == ".wav" || ext == ".wave") {
        auto f = std::make_unique<TagLib::RIFF::WAV::File>(p, false);
        if (f->isValid()) {
            // Readers prefer the ID3v2 chunk once there is one: seed a new one with the RIFF INFO
            // fields (title, artist, ...) so they stay visible; the INFO chunk itself is kept too.
            if (f->ID3v2Tag()->isEmpty() && f->hasInfoTag() && !f->InfoTag()->isEmpty())
                TagLib::Tag::duplicate(f->InfoTag(), f->ID3v2Tag(), false);
            o.editor = std::make_unique<Id3FileEditor<TagLib::RIFF::WAV::File>>(*f, f->ID3v2Tag());
            o.file = std::move(f);
            o.names = id3;
            o.format = "ID3v2 (WAV)";
        }
    } else if (ext == ".aif" || ext == ".aiff" || ext == ".aifc") {
        auto f = std::make_unique<TagLib::RIFF::AIFF::File>(p, false);
        if (f->isValid()) {
            o.editor = std::make_unique<Id3FileEditor<TagLib::RIFF::AIFF::File>>(*f, f->tag());
            o.file = std::move(f);
            o.names = id3;
            o.format = "ID3v2 (AIFF)";
        }
    } else if (ext == ".flac") {
        auto f = std::make_unique<TagLib::FLAC::File>(p, false);
        if (f->isValid()) {
            auto ed = std::make_unique<XiphEditor>(*f, f->xiphComment(true));
            ed->geob_ = true;
            o.editor = std::move(ed);
            o.file = std::move(f);
            o.names = xiph;
            o.format = "Vorbis comment (FLAC)";
        }
    } else if (ext == ".ogg" || ext == ".oga") {
        auto f = std::make_unique<TagLib::Ogg::Vorbis::File>(p, false);
        if (f->isValid() && f->tag()) {
            o.editor = std::make_unique<XiphEditor>(*f, f->tag());
            o.file = std::move(f);
            o.names = xiph;
            o.format = "Vorbis comment (Ogg Vorbis)";
        }
    } else if (ext == ".opus") {
        auto f = std::make_unique<TagLib::Ogg::Opus::File>(p, false);
        if (f->isValid() && f->tag()) {
            o.editor = std::make_unique<XiphEditor>(*f, f->tag());
            o.file = std::move(f);
            o.names = xiph;
            o.format = "Vorbis comment (Opus)";
        }
    } else if (ext == ".m4a" || ext == ".mp4" || ext == ".m4b" || ext == ".aac" || ext == ".alac") {
        auto f = std::make_unique<TagLib::MP4::File>(p, false);
        if (f->isValid() && f->tag()) {
            o.editor = std::make_unique<Mp4Editor>(*f, f->tag());
            o.file = std::move(f);
            o.names = mp4;
            o.format = "MP4";
        }
    } else {
        return make_error(ErrorCode::kUnsupportedFormat,
                          "cannot tag this file type (" + (ext.empty() ? std::string("no extension") : ext) +
                              "; taggable: mp3, wav, aiff, flac, ogg, opus, m4a): " + path);
    }
    if (!o.editor)
        return make_error(ErrorCode::kUnsupportedFormat, "TagLib cannot read the tags of this file: " + path);
    return o;
}

bool sync_file(const std::string& path) {
    const int fd = ::open(path.c_str(), O_RDONLY);
    if (fd < 0) return false;
    const bool ok = ::fsync(fd) == 0;
    ::close(fd);
    return ok;
}

void sync_dir(const fs::path& dir) {
    const int fd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY);
    if (fd >= 0) {
        (void)::fsync(fd);
        ::close(fd);
    }
}

std::vector<TagChange> plan(Editor& ed, const FieldNames& names, const SongMap& map, const TagOptions& o,
                            std::vector<std::string>& kept) {
    std::vector<TagChange> changes;
    auto want = [&](const std::string& field, const std::string& value) {
        const std::string old = ed.get(field);
        if (old != value) changes.push_back({field, old, value, {}});
    };
    const std::string old_bpm = ed.get(names.bpm);
    const std::string old_key = ed.get(names.key);
    const bool has_bpm = !old_bpm.empty() && old_bpm != "0";
    bool bpm_locked = false;
    if (o.serato && ed.supports_geob()) {
        // What Serato already holds: a BPM lock keeps the BPM, grid and autotags; hand-set cues or
        // loops keep Markers2.
        const auto info = serato::parse_markers2(ed.get_geob("Serato Markers2"));
        bpm_locked = info && info->bpm_lock;
        const double offset = target_time_offset_s(map, DjTarget::kSerato);
        auto want_geob = [&](const std::string& name, const std::string& payload) {
            if (payload.empty()) return;
            const std::string old = ed.get_geob(name);
            if (old == payload) return;
            TagChange c{"GEOB:" + name, old.empty() ? "" : "(" + std::to_string(old.size()) + " bytes)",
                        "(" + std::to_string(payload.size()) + " bytes)", payload};
            changes.push_back(std::move(c));
        };
        if (bpm_locked) {
            kept.push_back("Serato BeatGrid and Autotags (BPM locked in Serato)");
        } else {
            want_geob("Serato Autotags", serato::autotags(map));
            want_geob("Serato BeatGrid", serato::beatgrid(map, offset));
        }
        if (info && info->cues + info->loops > 0)
            kept.push_back("Serato Markers2 (" + std::to_string(info->cues) + " cues, " + std::to_string(info->loops) +
                           " loops set in Serato)");
        else
            want_geob(
                "Serato Markers2",
                serato::markers2(map, offset, downbeats_trusted(map, o.downbeats, o.min_downbeat_confidence), o.cues));
    }
    if (o.skip_tagged && has_bpm && !old_key.empty()) {
        kept.push_back(names.bpm + " '" + old_bpm + "'");
        kept.push_back(names.key + " '" + old_key + "'");
        return changes;
    }
    if (map.tempo && map.tempo->bpm) {
        if ((o.keep_existing || bpm_locked) && has_bpm)
            kept.push_back(names.bpm + " '" + old_bpm + "'");
        else if (names.bpm == "tmpo" || o.integer_bpm)
            want(names.bpm, std::to_string(static_cast<int>(std::lround(*map.tempo->bpm))));
        else
            want(names.bpm, bpm_text(*map.tempo->bpm));
    }
    const std::string key = format_key(map, o.notation);
    if (!key.empty()) {
        if (o.keep_existing && !old_key.empty())
            kept.push_back(names.key + " '" + old_key + "'");
        else
            want(names.key, key);
    }
    if (!o.comment_template.empty()) {
        const std::string prefix = expand_comment(o.comment_template, map, o.notation);
        std::string comment = ed.get(names.comment);
        const std::string old_prefix = ed.get(names.marker);
        // Replace the prefix Harmony wrote last (recorded in the marker field), never stack them.
        if (!old_prefix.empty() && comment.rfind(old_prefix, 0) == 0) {
            comment.erase(0, old_prefix.size());
            if (comment.rfind(" - ", 0) == 0) comment.erase(0, 3);
        }
        const std::string new_comment = comment.empty() ? prefix : prefix + " - " + comment;
        want(names.comment, new_comment);
        want(names.marker, prefix);
    }
    return changes;
}

}  // namespace

std::string expand_comment(const std::string& tmpl, const SongMap& map, KeyNotation notation) {
    auto value = [&](const std::string& name) -> std::string {
        if (name == "key") return format_key(map, notation);
        if (name == "camelot") return format_key(map, KeyNotation::kCamelot);
        if (name == "openkey") return format_key(map, KeyNotation::kOpenKey);
        if (name == "bpm") return (map.tempo && map.tempo->bpm) ? bpm_text(*map.tempo->bpm) : "";
        if (name == "energy") {
            const auto e = energy_level(map);
            return e ? std::to_string(*e) : "";
        }
        return "{" + name + "}";
    };
    std::string out;
    for (size_t i = 0; i < tmpl.size(); ++i) {
        if (tmpl[i] == '{') {
            const size_t close = tmpl.find('}', i);
            if (close != std::string::npos) {
                out += value(tmpl.substr(i + 1, close - i - 1));
                i = close;
                continue;
            }
        }
        out += tmpl[i];
    }
    return out;
}

namespace {

// The ID of the ID3 chunk of a RIFF/WAVE file ("id3 " or "ID3 "), "" when there is none.
std::string wav_id3_chunk(const std::string& path, std::int64_t* offset = nullptr) {
    std::unique_ptr<FILE, int (*)(FILE*)> f(std::fopen(path.c_str(), "rb"), &std::fclose);
    if (!f) return {};
    unsigned char h[12];
    if (std::fread(h, 1, 12, f.get()) != 12 || std::memcmp(h, "RIFF", 4) != 0 || std::memcmp(h + 8, "WAVE", 4) != 0)
        return {};
    std::int64_t pos = 12;
    unsigned char c[8];
    while (fseeko(f.get(), pos, SEEK_SET) == 0 && std::fread(c, 1, 8, f.get()) == 8) {
        const std::int64_t len =
            std::int64_t{c[4]} | (std::int64_t{c[5]} << 8) | (std::int64_t{c[6]} << 16) | (std::int64_t{c[7]} << 24);
        if (std::memcmp(c, "id3 ", 4) == 0 || std::memcmp(c, "ID3 ", 4) == 0) {
            if (offset) *offset = pos;
            return std::string(reinterpret_cast<const char*>(c), 4);
        }
        pos += 8 + len + (len & 1);
    }
    return {};
}

// TagLib writes the chunk as "ID3 "; give it back the name it had (exiftool reads only "id3 ").
bool restore_wav_id3_name(const std::string& path, const std::string& want) {
    std::int64_t at = 0;
    const std::string now = wav_id3_chunk(path, &at);
    if (now.empty() || now == want) return true;
    std::unique_ptr<FILE, int (*)(FILE*)> f(std::fopen(path.c_str(), "r+b"), &std::fclose);
    if (!f || fseeko(f.get(), at, SEEK_SET) != 0 || std::fwrite(want.data(), 1, 4, f.get()) != 4) return false;
    return std::fflush(f.get()) == 0;
}

// Applies the planned changes to `file` (opened by TagLib itself).
Result<void> apply(const std::string& file, const std::string& shown, const TagReport& report,
                   const std::string& wav_chunk) {
    {
        auto opened = open_for_tags(file);
        if (!opened) return opened.error();
        for (const auto& c : report.changes) {
            if (c.field.rfind("GEOB:", 0) == 0)
                opened->editor->set_geob(c.field.substr(5), c.binary);
            else
                opened->editor->set(c.field, c.new_value);
        }
        if (!opened->editor->save()) return make_error(ErrorCode::kIoError, "TagLib could not save the tags: " + shown);
    }
    if (!wav_chunk.empty() && !restore_wav_id3_name(file, wav_chunk))
        return make_error(ErrorCode::kIoError, "cannot name the WAV ID3 chunk: " + shown);
    if (!sync_file(file)) return make_error(ErrorCode::kIoError, "cannot flush the tagged file: " + shown);
    return {};
}

// Copies `from` over `to`'s contents in place (same inode): restores a file edited in place.
bool copy_contents(const std::string& from, const std::string& to) {
    std::unique_ptr<FILE, int (*)(FILE*)> in(std::fopen(from.c_str(), "rb"), &std::fclose);
    std::unique_ptr<FILE, int (*)(FILE*)> out(std::fopen(to.c_str(), "wb"), &std::fclose);
    if (!in || !out) return false;
    char buf[1 << 16];
    size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, in.get())) > 0)
        if (std::fwrite(buf, 1, n, out.get()) != n) return false;
    return std::fflush(out.get()) == 0 && !std::ferror(in.get());
}

}  // namespace

Result<TagReport> write_tags(const std::string& path, const SongMap& map, const TagOptions& options) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) return make_error(ErrorCode::kFileNotFound, "no such file: " + path);
    if (!S_ISREG(st.st_mode)) return make_error(ErrorCode::kNotAFile, "not a regular file: " + path);
    TagReport report;
    {
        // Plan on the original, opened read-only.
        auto opened = open_for_tags(path);
        if (!opened) return opened.error();
        report.format = opened->format;
        report.changes = plan(*opened->editor, opened->names, map, options, report.kept);
    }
    if (options.dry_run || report.changes.empty()) return report;

    // Through a symlink: edit its target (the link itself stays a link).
    std::error_code ec;
    const fs::path target = fs::canonical(fs::path(path), ec);
    if (ec) return make_error(ErrorCode::kIoError, "cannot resolve the path (" + ec.message() + "): " + path);
    const fs::path dir = target.parent_path();
    // A file without write permission bits is read-only for us even as root (DJ tools honour the
    // read-only attribute).
    if ((st.st_mode & 0222) == 0 || ::access(target.c_str(), W_OK) != 0)
        return make_error(ErrorCode::kPermissionDenied, "read-only file, tags not written: " + path);
    const std::string ext = lower_ext(target.string());
    const std::string had_chunk = (ext == ".wav" || ext == ".wave") ? wav_id3_chunk(target.string()) : "";
    const std::string wav_chunk = (ext == ".wav" || ext == ".wave") ? (had_chunk.empty() ? "id3 " : had_chunk) : "";

    const bool in_place = st.st_nlink > 1 || ::access(dir.empty() ? "." : dir.c_str(), W_OK) != 0;
    if (in_place) {
        // Several hard links (or a directory we cannot create files in): the file itself is
        // edited, so that every link sees the new tags. A backup copy (in the temporary
        // directory) restores the original when the save fails.
        if (st.st_nlink <= 1)
            return make_error(ErrorCode::kPermissionDenied, "read-only directory, tags not written: " + path);
        const fs::path backup = fs::temp_directory_path(ec) / ("harmony-tags-backup-" + std::to_string(::getpid()) +
                                                               "-" + std::to_string(st.st_ino) + ext);
        fs::copy_file(target, backup, fs::copy_options::overwrite_existing, ec);
        if (ec) return make_error(ErrorCode::kIoError, "cannot back up before tagging (" + ec.message() + "): " + path);
        auto r = apply(target.string(), path, report, wav_chunk);
        if (!r) {
            const bool restored = copy_contents(backup.string(), target.string());
            if (restored) fs::remove(backup, ec);
            return make_error(r.error().code,
                              r.error().message + (restored ? "" : " (original kept in " + backup.string() + ")"));
        }
        fs::remove(backup, ec);
        report.written = true;
        return report;
    }

    // Edit a copy in the same directory (same extension: TagLib picks the format from it), then
    // rename it over the original (atomic on POSIX).
    const fs::path tmp_ext = dir / ("." + target.stem().string() + ".harmony-tags-" + std::to_string(::getpid()) +
                                    target.extension().string());
    fs::copy_file(target, tmp_ext, fs::copy_options::overwrite_existing, ec);
    if (ec) return make_error(ErrorCode::kIoError, "cannot copy for tagging (" + ec.message() + "): " + path);
    ::chmod(tmp_ext.c_str(), st.st_mode & 07777);
    auto remove_tmp = [&] {
        std::error_code ec2;
        fs::remove(tmp_ext, ec2);
    };
    if (auto r = apply(tmp_ext.string(), path, report, wav_chunk); !r) {
        remove_tmp();
        return r.error();
    }
    fs::rename(tmp_ext, target, ec);
    if (ec) {
        remove_tmp();
        return make_error(ErrorCode::kIoError, "cannot replace the file (" + ec.message() + "): " + path);
    }
    sync_dir(dir);
    report.written = true;
    return report;
}

}  // namespace harmony::tags
